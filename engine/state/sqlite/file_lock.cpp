#include "engine/state/sqlite/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace hubsync::state::sqlite {

namespace {

model::Error os_error(const std::string& path, const char* what, int err) {
  return model::make_error(model::ErrorKind::fatal,
                           fmt::format("state store {}: {}: {}", path, what, std::strerror(err)));
}

std::string read_holder(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? std::string("unknown") : s;
}

}  // namespace

model::Result<PidLock> PidLock::acquire(const std::string& lock_path) {
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT)
    return os_error(lock_path, "cannot open lock file: its directory (state.path's) does not exist", errno);
  if (fd < 0) return os_error(lock_path, "cannot open lock file", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const std::string holder = read_holder(fd);
      ::close(fd);
      auto e = model::make_error(
          model::ErrorKind::fatal,
          fmt::format("state store is in use: another hubsync process (pid {}) holds the write "
                      "lock {}; stop it, or open the store read-only",
                      holder, lock_path));
      e.category = "IN_USE";
      return e;
    }
    ::close(fd);
    return os_error(lock_path, "cannot lock", err);
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return os_error(lock_path, "cannot write pid to lock file", err);
  }
  return PidLock(fd, lock_path);
}

PidLock::~PidLock() {
  if (fd_ >= 0) {
    // The pid stays in the file; only the lock tells whether it is held.
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

model::Status ensure_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return os_error(path, "cannot create", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return os_error(path, "cannot stat", err);
  }
  if ((st.st_mode & 022) != 0) {
    ::close(fd);
    return model::make_error(
        model::ErrorKind::fatal,
        fmt::format("{}: writable by group or others (mode {:03o}): refusing to trust it — another user may have "
                    "changed it; check it, then `chmod 600 {}`",
                    path, st.st_mode & 0777, path));
  }
  if ((st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
    const int err = errno;
    ::close(fd);
    return os_error(path, "cannot chmod 0600", err);
  }
  ::close(fd);
  return {};
}

}  // namespace hubsync::state::sqlite
