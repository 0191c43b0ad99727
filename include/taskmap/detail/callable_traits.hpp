#pragma once
// Parameter and return types of a non-generic callable (function, function pointer, or a
// class with exactly one non-template operator()).

#include <tuple>
#include <type_traits>

namespace taskmap::detail {

template <class R, class... A>
struct Signature {
  static constexpr bool known = true;
  using result = R;
  using params = std::tuple<A...>;
};

template <class T>
struct SignatureOf {
  static constexpr bool known = false;
};

template <class R, class... A>
struct SignatureOf<R(A...)> : Signature<R, A...> {};
template <class R, class... A>
struct SignatureOf<R(A...) noexcept> : Signature<R, A...> {};
template <class R, class... A>
struct SignatureOf<R (*)(A...)> : Signature<R, A...> {};
template <class R, class... A>
struct SignatureOf<R (*)(A...) noexcept> : Signature<R, A...> {};

// Member call operators, with every cv/ref/noexcept qualifier an lvalue call can use.
#define TASKMAP_DETAIL_MEMBER_SIGNATURE(QUALIFIERS) \
  template <class R, class C, class... A>           \
  struct SignatureOf<R (C::*)(A...) QUALIFIERS> : Signature<R, A...> {};
TASKMAP_DETAIL_MEMBER_SIGNATURE()
TASKMAP_DETAIL_MEMBER_SIGNATURE(const)
TASKMAP_DETAIL_MEMBER_SIGNATURE(&)
TASKMAP_DETAIL_MEMBER_SIGNATURE(const&)
TASKMAP_DETAIL_MEMBER_SIGNATURE(noexcept)
TASKMAP_DETAIL_MEMBER_SIGNATURE(const noexcept)
TASKMAP_DETAIL_MEMBER_SIGNATURE(&noexcept)
TASKMAP_DETAIL_MEMBER_SIGNATURE(const& noexcept)
#undef TASKMAP_DETAIL_MEMBER_SIGNATURE

template <class F>
concept HasSingleCallOperator = requires {
  &F::operator();
};

/// CallableTraits<F>::known is true when F's parameter list can be read off its type.
template <class F>
struct CallableTraits : SignatureOf<std::remove_cvref_t<F>> {};

template <class F>
requires HasSingleCallOperator<std::remove_cvref_t<F>>
struct CallableTraits<F> : SignatureOf<decltype(&std::remove_cvref_t<F>::operator())> {
};

}  // namespace taskmap::detail
