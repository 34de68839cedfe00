// test/nss_null.c — an NSS module ("ospptest") whose one user and one group, both "nullfields"
// with id 4321, leave the optional string fields null pointers, as some NSS modules do
// (pwd.getpwnam gives None for them). gr_mem stays a list (empty): ASan's getgrnam_r interceptor
// and Python's grp read it without a null check. ids_test.cpp loads this module by its soname
// and names it in a private /etc/nsswitch.conf.
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <string.h>

enum { the_id = 4321 };
static const char the_name[] = "nullfields";

static enum nss_status user(struct passwd* pw, char* buf, size_t len, int* err) {
    if (len < sizeof the_name) {
        *err = ERANGE;
        return NSS_STATUS_TRYAGAIN;
    }
    memcpy(buf, the_name, sizeof the_name);
    *pw = (struct passwd){.pw_name = buf, .pw_uid = the_id, .pw_gid = the_id};  // the rest null
    return NSS_STATUS_SUCCESS;
}

static enum nss_status group(struct group* gr, char* buf, size_t len, int* err) {
    if (len < sizeof the_name) {
        *err = ERANGE;
        return NSS_STATUS_TRYAGAIN;
    }
    memcpy(buf, the_name, sizeof the_name);
    static char* no_members[] = {NULL};
    *gr = (struct group){.gr_name = buf, .gr_gid = the_id, .gr_mem = no_members};  // gr_passwd null
    return NSS_STATUS_SUCCESS;
}

static enum nss_status not_found(int* err) {
    *err = ENOENT;
    return NSS_STATUS_NOTFOUND;
}

enum nss_status _nss_ospptest_getpwnam_r(const char* name, struct passwd* pw, char* buf, size_t len, int* err) {
    return strcmp(name, the_name) == 0 ? user(pw, buf, len, err) : not_found(err);
}
enum nss_status _nss_ospptest_getpwuid_r(uid_t uid, struct passwd* pw, char* buf, size_t len, int* err) {
    return uid == the_id ? user(pw, buf, len, err) : not_found(err);
}
enum nss_status _nss_ospptest_getgrnam_r(const char* name, struct group* gr, char* buf, size_t len, int* err) {
    return strcmp(name, the_name) == 0 ? group(gr, buf, len, err) : not_found(err);
}
enum nss_status _nss_ospptest_getgrgid_r(gid_t gid, struct group* gr, char* buf, size_t len, int* err) {
    return gid == the_id ? group(gr, buf, len, err) : not_found(err);
}
