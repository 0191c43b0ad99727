// A consumer of taskmap::store: keeps a record in a DirectoryStore, then reads it back through
// a second store over the same directory. The packaging tests build it against an installed
// taskmap (find_package with COMPONENTS store) and through FetchContent.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <taskmap/directory_store.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: store_consumer <directory for the records>\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::remove_all(dir);
  {
    taskmap::DirectoryStore store(dir);
    store.save("answer", "42");
    store.flush();
  }
  taskmap::DirectoryStore again(dir);
  const std::optional<std::string> record = again.load("answer");
  if (!record || *record != "42") {
    std::fprintf(stderr, "%s lost the record: %s\n", again.describe().c_str(),
                 record ? record->c_str() : "(none)");
    return 1;
  }
  std::printf("taskmap store consumer: %s keeps answer = %s\n", again.describe().c_str(),
              record->c_str());
  return 0;
}
