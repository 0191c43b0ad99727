#pragma once
// xxHash compiled into the program that includes it (XXH_INLINE_ALL): users of
// taskmap::store link no library, and the hash functions inline where they are called. The
// taskmap::store target puts xxhash.h's directory on the include path.

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>
