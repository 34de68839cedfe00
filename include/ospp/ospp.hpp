// ospp/ospp.hpp — the whole of ospp in one include.
//
// Spell the names out, ospp::mkdir, or alias the namespace as Python's import does:
// `namespace os = ospp;` then os::mkdir. Not `using namespace ospp;`: its names are the C
// library's, and an unqualified mkdir("d", 0755) then calls C's mkdir (an int, not a result: a
// string literal matches its const char* better than path_ref) or does not compile (fork(),
// sync(), setuid(0): ambiguous). Only the getters that cannot fail (getpid, getuid, ...) are C's
// own functions, by using-declarations, so these stay unambiguous.
#pragma once

#include "ospp/argv.hpp"
#include "ospp/bitmask.hpp"
#include "ospp/daemon.hpp"
#include "ospp/environ.hpp"
#include "ospp/error.hpp"
#include "ospp/fcntl.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/ids.hpp"
#include "ospp/name_table.hpp"
#include "ospp/path.hpp"
#include "ospp/pidfile.hpp"
#include "ospp/process.hpp"
#include "ospp/random.hpp"
#include "ospp/resource.hpp"
#include "ospp/scandir.hpp"
#include "ospp/sched.hpp"
#include "ospp/signal.hpp"
#include "ospp/signal_state.hpp"
#include "ospp/spawn.hpp"
#include "ospp/special_fds.hpp"
#include "ospp/stat.hpp"
#include "ospp/sysinfo.hpp"
#include "ospp/terminal.hpp"
#include "ospp/wait.hpp"
#include "ospp/walk.hpp"
#include "ospp/xattr.hpp"
