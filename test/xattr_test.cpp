// test/xattr_test.cpp — extended attributes on a filesystem that supports user.* attributes.
#include "ospp/xattr.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "ospp/fd_ops.hpp"
#include "support.hpp"

using ospp::xattr_flags;
using ospp_test::temp_dir;

namespace {
// Whether the temporary directory's filesystem takes user xattrs (tmpfs before 6.6 does not).
bool user_xattrs_supported(const std::string& file) {
    if (::setxattr(file.c_str(), "user.ospp.probe", "1", 1, 0) == 0) {
        ::removexattr(file.c_str(), "user.ospp.probe");
        return true;
    }
    return false;
}
}  // namespace

#define REQUIRE_USER_XATTRS(file)                                                                   \
    do {                                                                                            \
        if (!user_xattrs_supported(file)) OSPP_SKIP("the filesystem of $TMPDIR has no user xattrs"); \
    } while (0)

TEST_CASE("setxattr, getxattr, listxattr, removexattr round-trip binary values") {
    temp_dir dir;
    const std::string f = dir / "f";
    ospp_test::write_file(f, "");
    REQUIRE_USER_XATTRS(f);
    const std::string value("bin\0ary\xff", 8);
    REQUIRE(ospp::setxattr(f, "user.one", value));
    REQUIRE(ospp::setxattr(f, "user.two", ""));
    CHECK(ospp::getxattr(f, "user.one").value() == value);
    CHECK(ospp::getxattr(f, "user.two").value().empty());
    const std::string big(3'000, 'z');  // near ext4's limit of one block per value
    REQUIRE(ospp::setxattr(f, "user.big", big));
    CHECK(ospp::getxattr(f, "user.big").value() == big);
    auto names = ospp::listxattr(f);
    REQUIRE(names.has_value());
    std::sort(names->begin(), names->end());
    std::erase_if(*names, [](const std::string& n) { return !n.starts_with("user."); });  // security.* (SELinux)
    CHECK(*names == std::vector<std::string>{"user.big", "user.one", "user.two"});
    REQUIRE(ospp::removexattr(f, "user.two"));
    char buf[8];
    const ssize_t gone = ::getxattr(f.c_str(), "user.two", buf, sizeof buf);
    const int gone_errno = errno;  // before doctest's reporting (-s) can change it
    CHECK(gone < 0);
    CHECK(gone_errno == ENODATA);
}

TEST_CASE("xattr flags create and replace, and the errors they give") {
    temp_dir dir;
    const std::string f = dir / "f";
    ospp_test::write_file(f, "");
    REQUIRE_USER_XATTRS(f);
    CHECK_ERRNO(ospp::setxattr(f, "user.k", "v", xattr_flags::replace), ENODATA,
                "setxattr: [Errno 61] No data available: '" + f + "'");
    REQUIRE(ospp::setxattr(f, "user.k", "v", xattr_flags::create));
    CHECK_ERRNO(ospp::setxattr(f, "user.k", "w", xattr_flags::create), EEXIST,
                "setxattr: [Errno 17] File exists: '" + f + "'");
    REQUIRE(ospp::setxattr(f, "user.k", "w", xattr_flags::replace));
    CHECK(ospp::getxattr(f, "user.k").value() == "w");
    CHECK_ERRNO(ospp::getxattr(f, "user.none"), ENODATA, "getxattr: [Errno 61] No data available: '" + f + "'");
    CHECK_ERRNO(ospp::removexattr(f, "user.none"), ENODATA, "removexattr: [Errno 61] No data available: '" + f + "'");
    CHECK_ERRNO(ospp::listxattr(dir / "nope"), ENOENT,
                "listxattr: [Errno 2] No such file or directory: '" + (dir / "nope") + "'");
    CHECK_ERRNO(ospp::getxattr(f, std::string("user.\0x", 7)), EINVAL,
                "getxattr: [Errno 22] Invalid argument: 'user.\\x00x'");
}

TEST_CASE("xattrs through an fd, and follow_symlinks") {
    temp_dir dir;
    const std::string f = dir / "f";
    ospp_test::write_file(f, "");
    REQUIRE_USER_XATTRS(f);
    auto fd = ospp::open(f, ospp::open_flags::rdwr);
    REQUIRE(fd.has_value());
    REQUIRE(ospp::setxattr(*fd, "user.fd", "via fd"));
    CHECK(ospp::getxattr(f, "user.fd").value() == "via fd");
    CHECK(ospp::getxattr(*fd, "user.fd").value() == "via fd");
    auto names = ospp::listxattr(*fd);
    REQUIRE(names.has_value());
    CHECK(std::count(names->begin(), names->end(), "user.fd") == 1);
    REQUIRE(ospp::removexattr(*fd, "user.fd"));
    CHECK_ERRNO(ospp::getxattr(*fd, "user.fd"), ENODATA, "getxattr: [Errno 61] No data available");
    CHECK_ERRNO(ospp::getxattr(ospp::fd_ref(-1), "user.fd"), EBADF, "getxattr: [Errno 9] Bad file descriptor");
    // Through a symlink: followed by default; the link itself takes no user.* attribute.
    REQUIRE(::symlink("f", (dir / "l").c_str()) == 0);
    REQUIRE(ospp::setxattr(dir / "l", "user.through", "x"));
    CHECK(ospp::getxattr(f, "user.through").value() == "x");
    CHECK_ERRNO(ospp::getxattr(dir / "l", "user.through", {.follow_symlinks = false}), ENODATA,
                "getxattr: [Errno 61] No data available: " + ospp::quote_path(dir / "l"));
    CHECK_ERRNO(ospp::setxattr(dir / "l", "user.own", "x", xattr_flags::none, {.follow_symlinks = false}), EPERM,
                "setxattr: [Errno 1] Operation not permitted: " + ospp::quote_path(dir / "l"));
    CHECK_ERRNO(ospp::removexattr(dir / "l", "user.through", {.follow_symlinks = false}), EPERM,
                "removexattr: [Errno 1] Operation not permitted: " + ospp::quote_path(dir / "l"));
    CHECK(ospp::listxattr(dir / "l", {.follow_symlinks = false}).has_value());
}

TEST_CASE("xattr calls on a descriptor refuse cwd_fd and other negative numbers: EBADF") {
    // Since Linux 6.13, fgetxattr and fsetxattr go through the *xattrat path code: given AT_FDCWD
    // (-100, ospp::cwd_fd) and no path they act on the working directory instead of failing.
    // XATTR_REPLACE of an absent name keeps this test from writing there if the guard is missing.
    for (const int n : {AT_FDCWD, -1, -2}) {
        CAPTURE(n);
        const ospp::fd_ref f(n);
        CHECK_ERRNO(ospp::getxattr(f, "user.ospp.absent"), EBADF, "getxattr: [Errno 9] Bad file descriptor");
        CHECK_ERRNO(ospp::setxattr(f, "user.ospp.absent", "v", xattr_flags::replace), EBADF,
                    "setxattr: [Errno 9] Bad file descriptor");
        CHECK_ERRNO(ospp::listxattr(f), EBADF, "listxattr: [Errno 9] Bad file descriptor");
        CHECK_ERRNO(ospp::removexattr(f, "user.ospp.absent"), EBADF, "removexattr: [Errno 9] Bad file descriptor");
    }
}

TEST_CASE("the kernel's limits: 64 KiB values, name lengths, namespaces, 64 KiB of names") {
    // A memfd is on tmpfs, which (since Linux 6.6) keeps user.* attributes of any count in memory.
    ospp::fd f(::memfd_create("xattrs", MFD_CLOEXEC));
    REQUIRE(f.valid());
    if (::fsetxattr(f.get(), "user.probe", "1", 1, 0) != 0) OSPP_SKIP("tmpfs without user xattrs (before 6.6)");
    REQUIRE(ospp::removexattr(f, "user.probe"));
    std::string biggest(65'536, 'v');  // XATTR_SIZE_MAX
    biggest[100] = '\0';
    REQUIRE(ospp::setxattr(f, "user.big", biggest));
    CHECK(ospp::getxattr(f, "user.big").value() == biggest);
    CHECK_ERRNO(ospp::setxattr(f, "user.big", biggest + "v"), E2BIG, "setxattr: [Errno 7] Argument list too long");
    REQUIRE(ospp::removexattr(f, "user.big"));
    // An empty name and one over 255 bytes are ERANGE, as in Python; a name outside the
    // user/trusted/security/system namespaces is not supported.
    const std::string too_long = "user." + std::string(251, 'n');
    CHECK_ERRNO(ospp::getxattr(f, ""), ERANGE, "getxattr: [Errno 34] Numerical result out of range");
    CHECK_ERRNO(ospp::getxattr(f, too_long), ERANGE, "getxattr: [Errno 34] Numerical result out of range");
    CHECK_ERRNO(ospp::setxattr(f, "", "v"), ERANGE, "setxattr: [Errno 34] Numerical result out of range");
    CHECK_ERRNO(ospp::removexattr(f, too_long), ERANGE, "removexattr: [Errno 34] Numerical result out of range");
    CHECK_ERRNO(ospp::setxattr(f, "plain", "v"), EOPNOTSUPP, "setxattr: [Errno 95] Operation not supported");
    // Both flags: create if absent, else replace; the kernel checks replace first on an absent name.
    CHECK_ERRNO(ospp::setxattr(f, "user.k", "v", xattr_flags::create | xattr_flags::replace), ENODATA,
                "setxattr: [Errno 61] No data available");
    // Names that fill a list past the first guess; then past XATTR_LIST_MAX (64 KiB), E2BIG.
    std::size_t listed = 0;
    int n = 0;
    for (; listed <= 65'536; ++n) {
        const std::string name = "user.attribute_" + std::to_string(n);
        REQUIRE(ospp::setxattr(f, name, "v"));
        listed += name.size() + 1;
        if (n == 1'000) CHECK(ospp::listxattr(f).value().size() == 1'001);
    }
    CHECK_ERRNO(ospp::listxattr(f), E2BIG, "listxattr: [Errno 7] Argument list too long");
}
