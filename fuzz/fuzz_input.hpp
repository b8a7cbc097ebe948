// Fuzz inputs as files: the readers under test take a path, so each input is written to an
// anonymous in-memory file (memfd) and read back through /proc/self/fd/N. No disk I/O, and
// nothing left behind when the fuzzer stops.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace opgraph::fuzz {

class MemoryFile {
public:
    explicit MemoryFile(const char* name) : fd_(::memfd_create(name, 0)) {
        if (fd_ < 0) {
            std::perror("memfd_create");
            std::abort();
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;
    ~MemoryFile() { ::close(fd_); }

    // Replaces the content with data[0, size).
    void assign(const std::uint8_t* data, std::size_t size) {
        if (::ftruncate(fd_, 0) != 0) fail("ftruncate");
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            if (n <= 0) fail("pwrite");
            done += static_cast<std::size_t>(n);
        }
    }
    const std::string& path() const { return path_; }

private:
    [[noreturn]] static void fail(const char* what) {
        std::perror(what);
        std::abort();
    }
    int fd_;
    std::string path_;
};

// An exception that is not one of the library's documented errors escaped: a finding.
[[noreturn]] inline void undocumented_exception(const std::exception& e) {
    std::fprintf(stderr, "FINDING: undocumented exception escaped: %s\n", e.what());
    std::abort();
}

}  // namespace opgraph::fuzz
