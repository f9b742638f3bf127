
/*
 * Preloaded into nginx by scripts/asan-nginx, after the sanitizer
 * runtime (libasan, then libubsan), for scripts/test-asan.sh.
 *
 * dlclose(): does nothing.  nginx unloads its dynamic modules when the
 * cycle pool is destroyed, which a worker does just before exit():
 * LeakSanitizer, which runs at exit, would then find the module's
 * addresses unmapped and print its frames as "<unknown module>", so that
 * a leak could not be told to be the module's.  Keeping every library
 * mapped changes nothing else for a process that is about to exit, and a
 * reloading master dlopen()s the same file again (the same mapping, one
 * more reference).
 *
 * The UBSan report file: with gcc, -fsanitize=address,undefined links two
 * runtimes, libasan and libubsan.  The calls that set a report path
 * resolve to libasan's (it comes first), so libubsan's own report file
 * stays stderr (in nginx: the error log, which the test harness wipes
 * between blocks) whatever UBSAN_OPTIONS says.  The constructor below
 * sets libubsan's own one, to $SAN_UBSAN_LOG_PATH (a prefix: the runtime
 * adds ".<pid>").
 */


#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>


int
dlclose(void *handle)
{
    (void) handle;

    return 0;
}


__attribute__((constructor)) static void
asan_preload_init(void)
{
    void        *ubsan;
    const char  *path;
    void       (*set_report_path)(const char *);

    path = getenv("SAN_UBSAN_LOG_PATH");
    if (path == NULL || path[0] == '\0') {
        return;
    }

    /* already loaded (preloaded): only its handle is taken */

    ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (ubsan == NULL) {
        return;
    }

    /* looked up in libubsan itself, not in the global scope (libasan's) */

    set_report_path = (void (*)(const char *))
                          dlsym(ubsan, "__sanitizer_set_report_path");
    if (set_report_path != NULL) {
        set_report_path(path);
    }
}
