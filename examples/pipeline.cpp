// examples/pipeline.cpp — runs `a | b` the way a shell does: one pipe, two posix_spawn calls that
// wire the pipe's ends to stdout and stdin, then a wait for each child.
//
//   pipeline                              runs: ls / | wc -l
//   pipeline ls -l /usr/bin -- grep zip   runs: ls -l /usr/bin | grep zip
//
// The Python version, for comparison:
//   r, w = os.pipe()
//   a = os.posix_spawnp(argv_a[0], argv_a, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
//   b = os.posix_spawnp(argv_b[0], argv_b, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, r, 0)])
//   os.close(r); os.close(w)
//   for pid in (a, b): print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
#include <ospp/fd_ops.hpp>
#include <ospp/spawn.hpp>
#include <ospp/wait.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Prints how a child ended, like a shell's PIPESTATUS but without folding signals into codes.
void report(const char* what, ospp::wait_status st) {
    if (st.exited()) {
        std::fprintf(stderr, "%s: exit code %d\n", what, st.exit_code());
    } else if (st.signaled()) {
        std::fprintf(stderr, "%s: killed by SIG%s%s\n", what, ospp::signal_name(st.term_signal()).c_str(),
                     st.core_dumped() ? " (core dumped)" : "");
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a{"ls", "/"};
    std::vector<std::string> b{"wc", "-l"};
    if (argc > 1) {
        a.clear();
        b.clear();
        bool second = false;
        for (int i = 1; i < argc; ++i) {
            if (std::string_view(argv[i]) == "--") {
                second = true;
            } else {
                (second ? b : a).emplace_back(argv[i]);
            }
        }
        if (a.empty() || b.empty()) {
            std::fprintf(stderr, "usage: %s CMD [ARGS...] -- CMD [ARGS...]\n", argv[0]);
            return 2;
        }
    }

    // Both ends are close-on-exec: only the dup2 in the file actions passes them on, as 0 or 1.
    auto pipe = ospp::pipe();
    if (!pipe) {
        std::fprintf(stderr, "%s\n", pipe.error().message().c_str());
        return 1;
    }

    using ospp::spawn_file_action;
    auto writer = ospp::posix_spawnp(a[0], a, std::nullopt,
                                     {.file_actions = {spawn_file_action::dup2(pipe->write_end, ospp::stdout_fd)}});
    auto reader = ospp::posix_spawnp(b[0], b, std::nullopt,
                                     {.file_actions = {spawn_file_action::dup2(pipe->read_end, ospp::stdin_fd)}});
    // The parent must close its copies, or the reader never sees end of file.
    pipe->write_end.reset();
    pipe->read_end.reset();

    int status = 0;
    for (auto [name, pid] : {std::pair{a[0].c_str(), &writer}, std::pair{b[0].c_str(), &reader}}) {
        if (!*pid) {
            std::fprintf(stderr, "%s\n", pid->error().message().c_str());  // e.g. posix_spawnp: [Errno 2] ...: 'nope'
            status = 127;
            continue;
        }
        auto w = ospp::waitpid(**pid);
        if (!w) {
            std::fprintf(stderr, "%s\n", w.error().message().c_str());
            return 1;
        }
        report(name, w->status);
        status = w->status.to_exitcode().value_or(1);  // like a shell: the last command's status
    }
    return status < 0 ? 128 - status : status;
}
