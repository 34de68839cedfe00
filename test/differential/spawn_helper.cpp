// test/differential/spawn_helper.cpp — the program the spawn domain starts (see run.py): it writes
// what it was started with, in one write to descriptor 1, and ends as the environment variable
// SP_EXIT says (a number: that exit code; "kN": it raises signal N, then exits 0 if the signal
// did not end it). Plain POSIX calls, none of ospp's (but common.hpp's enc): it observes the
// child's state independently of what the drivers test.
//
//   argv TOKEN...            each argument, percent-encoded as common.hpp's enc
//   env TOKEN...             each environment string, in order
//   fd N cloexec=B acc=A append=B TARGET     for each open descriptor below 256
//   pgrp self|parent|other   the process group: the child's own, the parent's, another
//   sid self|parent|other    the same for the session
//   mask N,...               the blocked signals
//   sig N dfl|ign|other      the disposition of a few signals
//   ids UID EUID GID EGID
//   sched POLICY PRIORITY
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common.hpp"

extern char** environ;

namespace {

using differential::enc;

// A descriptor's target as the drivers see alike: below the working directory "./x", beside it
// "../x" (the drivers' capture file), a pipe, /dev/null, or "other".
std::string target(int fd, const std::string& cwd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char buf[4096];
    const ssize_t n = ::readlink(link, buf, sizeof buf - 1);
    if (n < 0) return "?";
    const std::string t(buf, static_cast<std::size_t>(n));
    const std::string parent = cwd.substr(0, cwd.rfind('/'));
    if (t.starts_with(cwd + "/")) return "./" + enc(t.substr(cwd.size() + 1));
    if (t.starts_with(parent + "/")) return "../" + enc(t.substr(parent.size() + 1));
    if (t.starts_with("pipe:")) return "pipe";
    if (t == "/dev/null") return t;
    return "other";
}

std::string token(::pid_t v, ::pid_t self, ::pid_t parent) {
    if (v == self) return "self";
    if (v == parent) return "parent";
    return "other";
}

}  // namespace

int main(int argc, char** argv) {
    std::string out = "argv";
    for (int i = 0; i < argc; ++i) (out += ' ') += enc(argv[i]);
    out += "\nenv";
    for (char** e = environ; *e != nullptr; ++e) (out += ' ') += enc(*e);
    out += '\n';
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
    for (int fd = 0; fd < 256; ++fd) {
        const int fdflags = ::fcntl(fd, F_GETFD);
        if (fdflags < 0) continue;
        const int fl = ::fcntl(fd, F_GETFL);
        const int acc = fl & O_ACCMODE;
        out += "fd " + std::to_string(fd) + " cloexec=" + std::to_string(fdflags & FD_CLOEXEC ? 1 : 0) +
               " acc=" + (acc == O_RDONLY ? "r" : acc == O_WRONLY ? "w" : "rw") +
               " append=" + std::to_string(fl & O_APPEND ? 1 : 0) + " " + target(fd, cwd) + "\n";
    }
    const ::pid_t self = ::getpid();
    const ::pid_t parent = ::getppid();
    out += "pgrp " + token(::getpgid(0), self, ::getpgid(parent)) + "\n";
    out += "sid " + token(::getsid(0), self, ::getsid(parent)) + "\n";
    sigset_t mask;
    ::sigprocmask(SIG_BLOCK, nullptr, &mask);
    out += "mask";
    for (int s = 1; s <= 64; ++s) {
        if (::sigismember(&mask, s) == 1) (out += ' ') += std::to_string(s);
    }
    out += '\n';
    for (const int s : {SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGPIPE, SIGTERM, SIGXFSZ}) {
        struct sigaction sa {};
        ::sigaction(s, nullptr, &sa);
        out += "sig " + std::to_string(s) + " " +
               (sa.sa_handler == SIG_DFL ? "dfl" : sa.sa_handler == SIG_IGN ? "ign" : "other") + "\n";
    }
    out += "ids " + std::to_string(::getuid()) + " " + std::to_string(::geteuid()) + " " +
           std::to_string(::getgid()) + " " + std::to_string(::getegid()) + "\n";
    struct sched_param sp {};
    ::sched_getparam(0, &sp);
    out += "sched " + std::to_string(::sched_getscheduler(0)) + " " + std::to_string(sp.sched_priority) + "\n";
    (void)!::write(1, out.data(), out.size());
    const char* how = std::getenv("SP_EXIT");
    if (how == nullptr) return 0;
    if (how[0] == 'k') {
        ::raise(std::atoi(how + 1));
        return 0;
    }
    return std::atoi(how);
}
