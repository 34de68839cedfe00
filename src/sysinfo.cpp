// src/sysinfo.cpp — uname, sysconf, confstr, CPU counts, load average.
#include "ospp/sysinfo.hpp"

#include <sched.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include <algorithm>

#include "ospp/sched.hpp"
#include "sys.hpp"

namespace ospp {

result<uname_result> uname() {
    // Not zeroed: the kernel copies its whole struct, every field NUL-terminated. (Building the
    // strings in the result instead of in a temporary measured slower: assignment is the general
    // std::string path, construction the short one.)
    struct ::utsname u;
    if (::uname(&u) < 0) return sys::fail("uname");
    return uname_result{u.sysname, u.nodename, u.release, u.version, u.machine};
}

namespace {

const name_entry<sysconf_name> sysconf_table[] = {
    {"SC_2_CHAR_TERM", sysconf_name::posix2_char_term},
    {"SC_2_C_BIND", sysconf_name::posix2_c_bind},
    {"SC_2_C_DEV", sysconf_name::posix2_c_dev},
    {"SC_2_C_VERSION", sysconf_name::posix2_c_version},
    {"SC_2_FORT_DEV", sysconf_name::posix2_fort_dev},
    {"SC_2_FORT_RUN", sysconf_name::posix2_fort_run},
    {"SC_2_LOCALEDEF", sysconf_name::posix2_localedef},
    {"SC_2_SW_DEV", sysconf_name::posix2_sw_dev},
    {"SC_2_UPE", sysconf_name::posix2_upe},
    {"SC_2_VERSION", sysconf_name::posix2_version},
    {"SC_AIO_LISTIO_MAX", sysconf_name::aio_listio_max},
    {"SC_AIO_MAX", sysconf_name::aio_max},
    {"SC_AIO_PRIO_DELTA_MAX", sysconf_name::aio_prio_delta_max},
    {"SC_ARG_MAX", sysconf_name::arg_max},
    {"SC_ASYNCHRONOUS_IO", sysconf_name::asynchronous_io},
    {"SC_ATEXIT_MAX", sysconf_name::atexit_max},
    {"SC_AVPHYS_PAGES", sysconf_name::avphys_pages},
    {"SC_BC_BASE_MAX", sysconf_name::bc_base_max},
    {"SC_BC_DIM_MAX", sysconf_name::bc_dim_max},
    {"SC_BC_SCALE_MAX", sysconf_name::bc_scale_max},
    {"SC_BC_STRING_MAX", sysconf_name::bc_string_max},
    {"SC_CHARCLASS_NAME_MAX", sysconf_name::charclass_name_max},
    {"SC_CHAR_BIT", sysconf_name::char_bit},
    {"SC_CHAR_MAX", sysconf_name::char_max},
    {"SC_CHAR_MIN", sysconf_name::char_min},
    {"SC_CHILD_MAX", sysconf_name::child_max},
    {"SC_CLK_TCK", sysconf_name::clk_tck},
    {"SC_COLL_WEIGHTS_MAX", sysconf_name::coll_weights_max},
    {"SC_DELAYTIMER_MAX", sysconf_name::delaytimer_max},
    {"SC_EQUIV_CLASS_MAX", sysconf_name::equiv_class_max},
    {"SC_EXPR_NEST_MAX", sysconf_name::expr_nest_max},
    {"SC_FSYNC", sysconf_name::fsync},
    {"SC_GETGR_R_SIZE_MAX", sysconf_name::getgr_r_size_max},
    {"SC_GETPW_R_SIZE_MAX", sysconf_name::getpw_r_size_max},
    {"SC_INT_MAX", sysconf_name::int_max},
    {"SC_INT_MIN", sysconf_name::int_min},
    {"SC_IOV_MAX", sysconf_name::iov_max},
    {"SC_JOB_CONTROL", sysconf_name::job_control},
    {"SC_LINE_MAX", sysconf_name::line_max},
    {"SC_LOGIN_NAME_MAX", sysconf_name::login_name_max},
    {"SC_LONG_BIT", sysconf_name::long_bit},
    {"SC_MAPPED_FILES", sysconf_name::mapped_files},
    {"SC_MB_LEN_MAX", sysconf_name::mb_len_max},
    {"SC_MEMLOCK", sysconf_name::memlock},
    {"SC_MEMLOCK_RANGE", sysconf_name::memlock_range},
    {"SC_MEMORY_PROTECTION", sysconf_name::memory_protection},
    {"SC_MESSAGE_PASSING", sysconf_name::message_passing},
    {"SC_MINSIGSTKSZ", sysconf_name::minsigstksz},
    {"SC_MQ_OPEN_MAX", sysconf_name::mq_open_max},
    {"SC_MQ_PRIO_MAX", sysconf_name::mq_prio_max},
    {"SC_NGROUPS_MAX", sysconf_name::ngroups_max},
    {"SC_NL_ARGMAX", sysconf_name::nl_argmax},
    {"SC_NL_LANGMAX", sysconf_name::nl_langmax},
    {"SC_NL_MSGMAX", sysconf_name::nl_msgmax},
    {"SC_NL_NMAX", sysconf_name::nl_nmax},
    {"SC_NL_SETMAX", sysconf_name::nl_setmax},
    {"SC_NL_TEXTMAX", sysconf_name::nl_textmax},
    {"SC_NPROCESSORS_CONF", sysconf_name::nprocessors_conf},
    {"SC_NPROCESSORS_ONLN", sysconf_name::nprocessors_onln},
    {"SC_NZERO", sysconf_name::nzero},
    {"SC_OPEN_MAX", sysconf_name::open_max},
    {"SC_PAGESIZE", sysconf_name::pagesize},
    {"SC_PAGE_SIZE", sysconf_name::page_size},
    {"SC_PASS_MAX", sysconf_name::pass_max},
    {"SC_PHYS_PAGES", sysconf_name::phys_pages},
    {"SC_PII", sysconf_name::pii},
    {"SC_PII_INTERNET", sysconf_name::pii_internet},
    {"SC_PII_INTERNET_DGRAM", sysconf_name::pii_internet_dgram},
    {"SC_PII_INTERNET_STREAM", sysconf_name::pii_internet_stream},
    {"SC_PII_OSI", sysconf_name::pii_osi},
    {"SC_PII_OSI_CLTS", sysconf_name::pii_osi_clts},
    {"SC_PII_OSI_COTS", sysconf_name::pii_osi_cots},
    {"SC_PII_OSI_M", sysconf_name::pii_osi_m},
    {"SC_PII_SOCKET", sysconf_name::pii_socket},
    {"SC_PII_XTI", sysconf_name::pii_xti},
    {"SC_POLL", sysconf_name::poll},
    {"SC_PRIORITIZED_IO", sysconf_name::prioritized_io},
    {"SC_PRIORITY_SCHEDULING", sysconf_name::priority_scheduling},
    {"SC_REALTIME_SIGNALS", sysconf_name::realtime_signals},
    {"SC_RE_DUP_MAX", sysconf_name::re_dup_max},
    {"SC_RTSIG_MAX", sysconf_name::rtsig_max},
    {"SC_SAVED_IDS", sysconf_name::saved_ids},
    {"SC_SCHAR_MAX", sysconf_name::schar_max},
    {"SC_SCHAR_MIN", sysconf_name::schar_min},
    {"SC_SELECT", sysconf_name::select},
    {"SC_SEMAPHORES", sysconf_name::semaphores},
    {"SC_SEM_NSEMS_MAX", sysconf_name::sem_nsems_max},
    {"SC_SEM_VALUE_MAX", sysconf_name::sem_value_max},
    {"SC_SHARED_MEMORY_OBJECTS", sysconf_name::shared_memory_objects},
    {"SC_SHRT_MAX", sysconf_name::shrt_max},
    {"SC_SHRT_MIN", sysconf_name::shrt_min},
    {"SC_SIGQUEUE_MAX", sysconf_name::sigqueue_max},
    {"SC_SSIZE_MAX", sysconf_name::ssize_max},
    {"SC_STREAM_MAX", sysconf_name::stream_max},
    {"SC_SYNCHRONIZED_IO", sysconf_name::synchronized_io},
    {"SC_THREADS", sysconf_name::threads},
    {"SC_THREAD_ATTR_STACKADDR", sysconf_name::thread_attr_stackaddr},
    {"SC_THREAD_ATTR_STACKSIZE", sysconf_name::thread_attr_stacksize},
    {"SC_THREAD_DESTRUCTOR_ITERATIONS", sysconf_name::thread_destructor_iterations},
    {"SC_THREAD_KEYS_MAX", sysconf_name::thread_keys_max},
    {"SC_THREAD_PRIORITY_SCHEDULING", sysconf_name::thread_priority_scheduling},
    {"SC_THREAD_PRIO_INHERIT", sysconf_name::thread_prio_inherit},
    {"SC_THREAD_PRIO_PROTECT", sysconf_name::thread_prio_protect},
    {"SC_THREAD_PROCESS_SHARED", sysconf_name::thread_process_shared},
    {"SC_THREAD_SAFE_FUNCTIONS", sysconf_name::thread_safe_functions},
    {"SC_THREAD_STACK_MIN", sysconf_name::thread_stack_min},
    {"SC_THREAD_THREADS_MAX", sysconf_name::thread_threads_max},
    {"SC_TIMERS", sysconf_name::timers},
    {"SC_TIMER_MAX", sysconf_name::timer_max},
    {"SC_TTY_NAME_MAX", sysconf_name::tty_name_max},
    {"SC_TZNAME_MAX", sysconf_name::tzname_max},
    {"SC_T_IOV_MAX", sysconf_name::t_iov_max},
    {"SC_UCHAR_MAX", sysconf_name::uchar_max},
    {"SC_UINT_MAX", sysconf_name::uint_max},
    {"SC_UIO_MAXIOV", sysconf_name::uio_maxiov},
    {"SC_ULONG_MAX", sysconf_name::ulong_max},
    {"SC_USHRT_MAX", sysconf_name::ushrt_max},
    {"SC_VERSION", sysconf_name::version},
    {"SC_WORD_BIT", sysconf_name::word_bit},
    {"SC_XBS5_ILP32_OFF32", sysconf_name::xbs5_ilp32_off32},
    {"SC_XBS5_ILP32_OFFBIG", sysconf_name::xbs5_ilp32_offbig},
    {"SC_XBS5_LP64_OFF64", sysconf_name::xbs5_lp64_off64},
    {"SC_XBS5_LPBIG_OFFBIG", sysconf_name::xbs5_lpbig_offbig},
    {"SC_XOPEN_CRYPT", sysconf_name::xopen_crypt},
    {"SC_XOPEN_ENH_I18N", sysconf_name::xopen_enh_i18n},
    {"SC_XOPEN_LEGACY", sysconf_name::xopen_legacy},
    {"SC_XOPEN_REALTIME", sysconf_name::xopen_realtime},
    {"SC_XOPEN_REALTIME_THREADS", sysconf_name::xopen_realtime_threads},
    {"SC_XOPEN_SHM", sysconf_name::xopen_shm},
    {"SC_XOPEN_UNIX", sysconf_name::xopen_unix},
    {"SC_XOPEN_VERSION", sysconf_name::xopen_version},
    {"SC_XOPEN_XCU_VERSION", sysconf_name::xopen_xcu_version},
    {"SC_XOPEN_XPG2", sysconf_name::xopen_xpg2},
    {"SC_XOPEN_XPG3", sysconf_name::xopen_xpg3},
    {"SC_XOPEN_XPG4", sysconf_name::xopen_xpg4},
};

const name_entry<confstr_name> confstr_table[] = {
    {"CS_GNU_LIBC_VERSION", confstr_name::gnu_libc_version},
    {"CS_GNU_LIBPTHREAD_VERSION", confstr_name::gnu_libpthread_version},
    {"CS_LFS64_CFLAGS", confstr_name::lfs64_cflags},
    {"CS_LFS64_LDFLAGS", confstr_name::lfs64_ldflags},
    {"CS_LFS64_LIBS", confstr_name::lfs64_libs},
    {"CS_LFS64_LINTFLAGS", confstr_name::lfs64_lintflags},
    {"CS_LFS_CFLAGS", confstr_name::lfs_cflags},
    {"CS_LFS_LDFLAGS", confstr_name::lfs_ldflags},
    {"CS_LFS_LIBS", confstr_name::lfs_libs},
    {"CS_LFS_LINTFLAGS", confstr_name::lfs_lintflags},
    {"CS_PATH", confstr_name::path},
    {"CS_XBS5_ILP32_OFF32_CFLAGS", confstr_name::xbs5_ilp32_off32_cflags},
    {"CS_XBS5_ILP32_OFF32_LDFLAGS", confstr_name::xbs5_ilp32_off32_ldflags},
    {"CS_XBS5_ILP32_OFF32_LIBS", confstr_name::xbs5_ilp32_off32_libs},
    {"CS_XBS5_ILP32_OFF32_LINTFLAGS", confstr_name::xbs5_ilp32_off32_lintflags},
    {"CS_XBS5_ILP32_OFFBIG_CFLAGS", confstr_name::xbs5_ilp32_offbig_cflags},
    {"CS_XBS5_ILP32_OFFBIG_LDFLAGS", confstr_name::xbs5_ilp32_offbig_ldflags},
    {"CS_XBS5_ILP32_OFFBIG_LIBS", confstr_name::xbs5_ilp32_offbig_libs},
    {"CS_XBS5_ILP32_OFFBIG_LINTFLAGS", confstr_name::xbs5_ilp32_offbig_lintflags},
    {"CS_XBS5_LP64_OFF64_CFLAGS", confstr_name::xbs5_lp64_off64_cflags},
    {"CS_XBS5_LP64_OFF64_LDFLAGS", confstr_name::xbs5_lp64_off64_ldflags},
    {"CS_XBS5_LP64_OFF64_LIBS", confstr_name::xbs5_lp64_off64_libs},
    {"CS_XBS5_LP64_OFF64_LINTFLAGS", confstr_name::xbs5_lp64_off64_lintflags},
    {"CS_XBS5_LPBIG_OFFBIG_CFLAGS", confstr_name::xbs5_lpbig_offbig_cflags},
    {"CS_XBS5_LPBIG_OFFBIG_LDFLAGS", confstr_name::xbs5_lpbig_offbig_ldflags},
    {"CS_XBS5_LPBIG_OFFBIG_LIBS", confstr_name::xbs5_lpbig_offbig_libs},
    {"CS_XBS5_LPBIG_OFFBIG_LINTFLAGS", confstr_name::xbs5_lpbig_offbig_lintflags},
};

}  // namespace

std::span<const name_entry<sysconf_name>> sysconf_names() noexcept { return sysconf_table; }
std::span<const name_entry<confstr_name>> confstr_names() noexcept { return confstr_table; }

result<std::optional<long>> sysconf(sysconf_name name) noexcept {
    const auto r = sys::call_limit([&] { return ::sysconf(static_cast<int>(name)); });
    if (r.failed) return sys::fail("sysconf");
    return r.value;
}

result<std::optional<long>> sysconf(std::string_view name) noexcept {
    const auto* e = find_name(sysconf_names(), name);
    if (e == nullptr) return sys::fail_with(EINVAL, "sysconf");
    return sysconf(e->value);
}

// The first call (into an empty buffer) asks for the size; the value is read once the buffer
// holds it. Every call is checked: 0 with errno set is a failure, 0 without is "no value".
result<std::optional<std::string>> confstr(confstr_name name) {
    std::string value;
    for (;;) {
        errno = 0;
        const std::size_t size = ::confstr(static_cast<int>(name), value.data(), value.size());
        if (size == 0) {
            if (errno != 0) return sys::fail("confstr");
            return std::optional<std::string>();
        }
        if (size <= value.size()) {
            value.resize(size - 1);  // drop the terminating NUL the size counted
            return std::optional<std::string>(std::move(value));
        }
        value.assign(size, '\0');
    }
}

result<std::optional<std::string>> confstr(std::string_view name) {
    const auto* e = find_name(confstr_names(), name);
    if (e == nullptr) return sys::fail_with(EINVAL, "confstr");
    return confstr(e->value);
}

std::optional<int> cpu_count() noexcept {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) return std::nullopt;
    return static_cast<int>(n);
}

std::optional<int> process_cpu_count() {
    if (auto mask = sched_getaffinity(0)) return static_cast<int>(mask->count());
    return cpu_count();
}

result<loadavg> getloadavg() noexcept {
    double avg[3];
    errno = 0;
    if (::getloadavg(avg, 3) != 3) return sys::fail_with(errno != 0 ? errno : EIO, "getloadavg");
    return loadavg{avg[0], avg[1], avg[2]};
}

}  // namespace ospp
