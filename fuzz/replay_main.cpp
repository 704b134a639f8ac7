// A plain main for the fuzz targets: runs LLVMFuzzerTestOneInput on every file given (or in
// every directory given), so CTest replays the checked-in corpus with any compiler and no
// libFuzzer. Exit status 0 when every input ran (a failed check aborts).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return 1;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int inputs = 0, errors = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());  // deterministic order
      for (const auto& f : files) {
        errors += run_file(f);
        ++inputs;
      }
    } else {
      errors += run_file(arg);
      ++inputs;
    }
  }
  std::printf("replay: %d input(s), %d unreadable\n", inputs, errors);
  if (inputs == 0) {
    std::fprintf(stderr, "replay: no inputs (an empty corpus would prove nothing)\n");
    return 1;
  }
  return errors == 0 ? 0 : 1;
}
