// ospp/sysinfo.hpp — what the system is: uname, sysconf, confstr, CPU count, load average.
//
//   Python                                   C++
//   os.uname().release                       ospp::uname()->release
//   os.sysconf("SC_PAGESIZE")                ospp::sysconf(ospp::sysconf_name::pagesize)   // or sysconf("SC_PAGESIZE")
//   os.sysconf_names["SC_ARG_MAX"]           ospp::sysconf_names()  // span of {name, value}, sorted by name
//   os.confstr("CS_PATH")                    ospp::confstr(ospp::confstr_name::path)       // result<std::optional<std::string>>
//   os.cpu_count()                           ospp::cpu_count()                             // std::optional<int>
//   os.process_cpu_count()                   ospp::process_cpu_count()                     // Python 3.13
//   os.getloadavg()                          auto [one, five, fifteen] = ospp::getloadavg().value();
//
// The typed names are the ones Python's *_names tables have on Linux, spelled without the SC_/CS_
// prefix in lower case (SC_2_VERSION is posix2_version). Any other number works as sysconf_name{n}.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ospp/bitmask.hpp"  // to_raw
#include "ospp/error.hpp"
#include "ospp/name_table.hpp"

namespace ospp {

// Python's os.uname_result.
struct uname_result {
    std::string sysname;   // "Linux"
    std::string nodename;  // the host name
    std::string release;   // "6.1.0-18-amd64"
    std::string version;   // "#1 SMP PREEMPT_DYNAMIC Debian ..."
    std::string machine;   // "x86_64"
};
// Python's os.uname(). Errors: none in practice (EFAULT).
[[nodiscard]] result<uname_result> uname();

// sysconf(3) names: Python's os.sysconf_names keys without "SC_".
enum class sysconf_name : int {
    arg_max = _SC_ARG_MAX,
    child_max = _SC_CHILD_MAX,
    clk_tck = _SC_CLK_TCK,
    ngroups_max = _SC_NGROUPS_MAX,
    open_max = _SC_OPEN_MAX,
    stream_max = _SC_STREAM_MAX,
    tzname_max = _SC_TZNAME_MAX,
    job_control = _SC_JOB_CONTROL,
    saved_ids = _SC_SAVED_IDS,
    realtime_signals = _SC_REALTIME_SIGNALS,
    priority_scheduling = _SC_PRIORITY_SCHEDULING,
    timers = _SC_TIMERS,
    asynchronous_io = _SC_ASYNCHRONOUS_IO,
    prioritized_io = _SC_PRIORITIZED_IO,
    synchronized_io = _SC_SYNCHRONIZED_IO,
    fsync = _SC_FSYNC,
    mapped_files = _SC_MAPPED_FILES,
    memlock = _SC_MEMLOCK,
    memlock_range = _SC_MEMLOCK_RANGE,
    memory_protection = _SC_MEMORY_PROTECTION,
    message_passing = _SC_MESSAGE_PASSING,
    semaphores = _SC_SEMAPHORES,
    shared_memory_objects = _SC_SHARED_MEMORY_OBJECTS,
    aio_listio_max = _SC_AIO_LISTIO_MAX,
    aio_max = _SC_AIO_MAX,
    aio_prio_delta_max = _SC_AIO_PRIO_DELTA_MAX,
    delaytimer_max = _SC_DELAYTIMER_MAX,
    mq_open_max = _SC_MQ_OPEN_MAX,
    mq_prio_max = _SC_MQ_PRIO_MAX,
    version = _SC_VERSION,
    pagesize = _SC_PAGESIZE,
    page_size = _SC_PAGE_SIZE,
    rtsig_max = _SC_RTSIG_MAX,
    sem_nsems_max = _SC_SEM_NSEMS_MAX,
    sem_value_max = _SC_SEM_VALUE_MAX,
    sigqueue_max = _SC_SIGQUEUE_MAX,
    timer_max = _SC_TIMER_MAX,
    bc_base_max = _SC_BC_BASE_MAX,
    bc_dim_max = _SC_BC_DIM_MAX,
    bc_scale_max = _SC_BC_SCALE_MAX,
    bc_string_max = _SC_BC_STRING_MAX,
    coll_weights_max = _SC_COLL_WEIGHTS_MAX,
    equiv_class_max = _SC_EQUIV_CLASS_MAX,
    expr_nest_max = _SC_EXPR_NEST_MAX,
    line_max = _SC_LINE_MAX,
    re_dup_max = _SC_RE_DUP_MAX,
    charclass_name_max = _SC_CHARCLASS_NAME_MAX,
    posix2_version = _SC_2_VERSION,
    posix2_c_bind = _SC_2_C_BIND,
    posix2_c_dev = _SC_2_C_DEV,
    posix2_fort_dev = _SC_2_FORT_DEV,
    posix2_fort_run = _SC_2_FORT_RUN,
    posix2_sw_dev = _SC_2_SW_DEV,
    posix2_localedef = _SC_2_LOCALEDEF,
    pii = _SC_PII,
    pii_xti = _SC_PII_XTI,
    pii_socket = _SC_PII_SOCKET,
    pii_internet = _SC_PII_INTERNET,
    pii_osi = _SC_PII_OSI,
    poll = _SC_POLL,
    select = _SC_SELECT,
    iov_max = _SC_IOV_MAX,
    uio_maxiov = _SC_UIO_MAXIOV,
    pii_internet_stream = _SC_PII_INTERNET_STREAM,
    pii_internet_dgram = _SC_PII_INTERNET_DGRAM,
    pii_osi_cots = _SC_PII_OSI_COTS,
    pii_osi_clts = _SC_PII_OSI_CLTS,
    pii_osi_m = _SC_PII_OSI_M,
    t_iov_max = _SC_T_IOV_MAX,
    threads = _SC_THREADS,
    thread_safe_functions = _SC_THREAD_SAFE_FUNCTIONS,
    getgr_r_size_max = _SC_GETGR_R_SIZE_MAX,
    getpw_r_size_max = _SC_GETPW_R_SIZE_MAX,
    login_name_max = _SC_LOGIN_NAME_MAX,
    tty_name_max = _SC_TTY_NAME_MAX,
    thread_destructor_iterations = _SC_THREAD_DESTRUCTOR_ITERATIONS,
    thread_keys_max = _SC_THREAD_KEYS_MAX,
    thread_stack_min = _SC_THREAD_STACK_MIN,
    thread_threads_max = _SC_THREAD_THREADS_MAX,
    thread_attr_stackaddr = _SC_THREAD_ATTR_STACKADDR,
    thread_attr_stacksize = _SC_THREAD_ATTR_STACKSIZE,
    thread_priority_scheduling = _SC_THREAD_PRIORITY_SCHEDULING,
    thread_prio_inherit = _SC_THREAD_PRIO_INHERIT,
    thread_prio_protect = _SC_THREAD_PRIO_PROTECT,
    thread_process_shared = _SC_THREAD_PROCESS_SHARED,
    nprocessors_conf = _SC_NPROCESSORS_CONF,
    nprocessors_onln = _SC_NPROCESSORS_ONLN,
    phys_pages = _SC_PHYS_PAGES,
    avphys_pages = _SC_AVPHYS_PAGES,
    atexit_max = _SC_ATEXIT_MAX,
    pass_max = _SC_PASS_MAX,
    xopen_version = _SC_XOPEN_VERSION,
    xopen_xcu_version = _SC_XOPEN_XCU_VERSION,
    xopen_unix = _SC_XOPEN_UNIX,
    xopen_crypt = _SC_XOPEN_CRYPT,
    xopen_enh_i18n = _SC_XOPEN_ENH_I18N,
    xopen_shm = _SC_XOPEN_SHM,
    posix2_char_term = _SC_2_CHAR_TERM,
    posix2_c_version = _SC_2_C_VERSION,
    posix2_upe = _SC_2_UPE,
    xopen_xpg2 = _SC_XOPEN_XPG2,
    xopen_xpg3 = _SC_XOPEN_XPG3,
    xopen_xpg4 = _SC_XOPEN_XPG4,
    char_bit = _SC_CHAR_BIT,
    char_max = _SC_CHAR_MAX,
    char_min = _SC_CHAR_MIN,
    int_max = _SC_INT_MAX,
    int_min = _SC_INT_MIN,
    long_bit = _SC_LONG_BIT,
    word_bit = _SC_WORD_BIT,
    mb_len_max = _SC_MB_LEN_MAX,
    nzero = _SC_NZERO,
    ssize_max = _SC_SSIZE_MAX,
    schar_max = _SC_SCHAR_MAX,
    schar_min = _SC_SCHAR_MIN,
    shrt_max = _SC_SHRT_MAX,
    shrt_min = _SC_SHRT_MIN,
    uchar_max = _SC_UCHAR_MAX,
    uint_max = _SC_UINT_MAX,
    ulong_max = _SC_ULONG_MAX,
    ushrt_max = _SC_USHRT_MAX,
    nl_argmax = _SC_NL_ARGMAX,
    nl_langmax = _SC_NL_LANGMAX,
    nl_msgmax = _SC_NL_MSGMAX,
    nl_nmax = _SC_NL_NMAX,
    nl_setmax = _SC_NL_SETMAX,
    nl_textmax = _SC_NL_TEXTMAX,
    xbs5_ilp32_off32 = _SC_XBS5_ILP32_OFF32,
    xbs5_ilp32_offbig = _SC_XBS5_ILP32_OFFBIG,
    xbs5_lp64_off64 = _SC_XBS5_LP64_OFF64,
    xbs5_lpbig_offbig = _SC_XBS5_LPBIG_OFFBIG,
    xopen_legacy = _SC_XOPEN_LEGACY,
    xopen_realtime = _SC_XOPEN_REALTIME,
    xopen_realtime_threads = _SC_XOPEN_REALTIME_THREADS,
    minsigstksz = _SC_MINSIGSTKSZ,
};

// confstr(3) names: Python's os.confstr_names keys without "CS_".
enum class confstr_name : int {
    path = _CS_PATH,
    gnu_libc_version = _CS_GNU_LIBC_VERSION,
    gnu_libpthread_version = _CS_GNU_LIBPTHREAD_VERSION,
    lfs_cflags = _CS_LFS_CFLAGS,
    lfs_ldflags = _CS_LFS_LDFLAGS,
    lfs_libs = _CS_LFS_LIBS,
    lfs_lintflags = _CS_LFS_LINTFLAGS,
    lfs64_cflags = _CS_LFS64_CFLAGS,
    lfs64_ldflags = _CS_LFS64_LDFLAGS,
    lfs64_libs = _CS_LFS64_LIBS,
    lfs64_lintflags = _CS_LFS64_LINTFLAGS,
    xbs5_ilp32_off32_cflags = _CS_XBS5_ILP32_OFF32_CFLAGS,
    xbs5_ilp32_off32_ldflags = _CS_XBS5_ILP32_OFF32_LDFLAGS,
    xbs5_ilp32_off32_libs = _CS_XBS5_ILP32_OFF32_LIBS,
    xbs5_ilp32_off32_lintflags = _CS_XBS5_ILP32_OFF32_LINTFLAGS,
    xbs5_ilp32_offbig_cflags = _CS_XBS5_ILP32_OFFBIG_CFLAGS,
    xbs5_ilp32_offbig_ldflags = _CS_XBS5_ILP32_OFFBIG_LDFLAGS,
    xbs5_ilp32_offbig_libs = _CS_XBS5_ILP32_OFFBIG_LIBS,
    xbs5_ilp32_offbig_lintflags = _CS_XBS5_ILP32_OFFBIG_LINTFLAGS,
    xbs5_lp64_off64_cflags = _CS_XBS5_LP64_OFF64_CFLAGS,
    xbs5_lp64_off64_ldflags = _CS_XBS5_LP64_OFF64_LDFLAGS,
    xbs5_lp64_off64_libs = _CS_XBS5_LP64_OFF64_LIBS,
    xbs5_lp64_off64_lintflags = _CS_XBS5_LP64_OFF64_LINTFLAGS,
    xbs5_lpbig_offbig_cflags = _CS_XBS5_LPBIG_OFFBIG_CFLAGS,
    xbs5_lpbig_offbig_ldflags = _CS_XBS5_LPBIG_OFFBIG_LDFLAGS,
    xbs5_lpbig_offbig_libs = _CS_XBS5_LPBIG_OFFBIG_LIBS,
    xbs5_lpbig_offbig_lintflags = _CS_XBS5_LPBIG_OFFBIG_LINTFLAGS,
};

// Python's os.sysconf_names and os.confstr_names, sorted by name.
std::span<const name_entry<sysconf_name>> sysconf_names() noexcept;
std::span<const name_entry<confstr_name>> confstr_names() noexcept;

// Python's os.sysconf(name). An empty optional is "no limit" (Python's -1), which is not an error.
// Errors: EINVAL (a name this system does not know).
[[nodiscard]] result<std::optional<long>> sysconf(sysconf_name name) noexcept;
// The same by Python's string name, "SC_PAGESIZE". Errors: EINVAL (not in sysconf_names()).
[[nodiscard]] result<std::optional<long>> sysconf(std::string_view name) noexcept;

// Python's os.confstr(name): the value, or nullopt when the system defines none (Python's None).
// Errors: EINVAL.
[[nodiscard]] result<std::optional<std::string>> confstr(confstr_name name);
// The same by Python's string name, "CS_PATH". Errors: EINVAL (not in confstr_names()).
[[nodiscard]] result<std::optional<std::string>> confstr(std::string_view name);

// Python's os.cpu_count(): the CPUs online in the system; nullopt when unknown.
std::optional<int> cpu_count() noexcept;
// Python's os.process_cpu_count(): the CPUs this process may run on (its affinity mask), falling
// back to cpu_count().
std::optional<int> process_cpu_count();

// Python's os.getloadavg(): run-queue averages over 1, 5 and 15 minutes.
struct loadavg {
    double one;
    double five;
    double fifteen;
};
// Errors: none with glibc, which asks sysinfo(2) (EFAULT only); a C library that reads
// /proc/loadavg gives that errno, or EIO when it gives none (Python's "Load averages are
// unobtainable").
[[nodiscard]] result<loadavg> getloadavg() noexcept;

}  // namespace ospp
