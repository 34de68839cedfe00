// examples/flock_counter.cpp — 20 forked children add 1 each to a counter file under flock; the
// result must be 20. Limits first: no core files, and a soft fd limit of 256 (the hard one if lower).
//
//   flock_counter FILE        exit 0 when FILE ends holding "20"
//
// The Python version, for comparison:
//   resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
//   soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
//   resource.setrlimit(resource.RLIMIT_NOFILE,       # RLIM_INFINITY is -1: min() would pick it
//                      (256 if hard == resource.RLIM_INFINITY else min(256, hard), hard))
//   with open(path, "w") as f: f.write("0\n")
//   pids = []
//   for _ in range(20):
//       pid = os.fork()
//       if pid == 0:
//           fd = os.open(path, os.O_RDWR)            # its own open: see increment() below
//           fcntl.flock(fd, fcntl.LOCK_EX)
//           n = int(os.pread(fd, 32, 0))
//           os.ftruncate(fd, 0); os.pwrite(fd, b"%d\n" % (n + 1), 0)
//           os._exit(0)
//       pids.append(pid)
//   failed = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0 for pid in pids)
#include <ospp/fcntl.hpp>
#include <ospp/fd_ops.hpp>
#include <ospp/process.hpp>
#include <ospp/resource.hpp>
#include <ospp/wait.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

namespace {

namespace res = ospp::resource;
namespace fc = ospp::fcntl;
using ospp::open_flags;

// One child's work. It opens the file itself: a flock belongs to the open file description, and a
// descriptor inherited over fork() is one description shared by all the children, so each one's
// flock(ex) would succeed at once and the increments would race.
int increment(const char* path) {
    auto f = ospp::open(path, open_flags::rdwr);
    if (!f) return 1;
    auto lock = fc::flock_guard::lock(*f, fc::lock_op::ex);  // unlocked when `lock` ends
    if (!lock) return 1;
    auto text = ospp::pread(*f, 32, 0);
    if (!text) return 1;
    long n = 0;
    std::from_chars(text->data(), text->data() + text->size(), n);
    const std::string next = std::to_string(n + 1) + "\n";
    if (!ospp::ftruncate(*f, 0) || !ospp::pwrite(*f, next, 0)) return 1;
    return 0;
}

int fail(const ospp::errno_error& e) {
    std::fprintf(stderr, "flock_counter: %s\n", e.message().c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: flock_counter FILE\n");
        return 2;
    }
    const char* path = argv[1];
    if (auto r = res::setrlimit(res::rlimit_resource::core, {res::limit{0}, res::limit{0}}); !r) return fail(r.error());
    auto nofile = res::getrlimit(res::rlimit_resource::nofile);
    if (!nofile) return fail(nofile.error());
    const res::limit soft = std::min(res::limit{256}, nofile->hard);  // infinity orders above any number
    if (auto r = res::setrlimit(res::rlimit_resource::nofile, {soft, nofile->hard}); !r) return fail(r.error());

    {
        auto f = ospp::open(path, open_flags::wronly | open_flags::creat | open_flags::trunc, 0644);
        if (!f) return fail(f.error());
        if (auto w = ospp::write_all(*f, "0\n"); !w) return fail(w.error());
    }  // closed here: the children open their own

    // The string children allocate is fine here: this program has one thread (see process.hpp).
    std::vector<pid_t> children;
    for (int i = 0; i < 20; ++i) {
        auto child = ospp::fork();
        if (!child) {
            fail(child.error());
            break;
        }
        if (child->is_child()) ospp::_exit(increment(path));
        children.push_back(child->pid());
    }
    int failed = 0;
    for (pid_t pid : children) {
        auto waited = ospp::waitpid(pid);
        if (!waited || waited->status.to_exitcode().value_or(-1) != 0) ++failed;
    }

    auto in = ospp::open(path, open_flags::rdonly);
    if (!in) return fail(in.error());
    auto text = ospp::read_all(*in);
    if (!text) return fail(text.error());
    std::printf("%d children, %d failed, counter %s", static_cast<int>(children.size()), failed, text->c_str());
    return *text == "20\n" ? 0 : 1;
}
