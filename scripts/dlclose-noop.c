
/*
 * A dlclose() that does nothing, preloaded into nginx by
 * scripts/test-asan.sh after the sanitizer runtime.
 *
 * nginx unloads its dynamic modules when the cycle pool is destroyed, which
 * a worker does just before exit(): LeakSanitizer, which runs at exit,
 * would then find the module's addresses unmapped and print its frames as
 * "<unknown module>", so that a leak could not be told to be the module's.
 * Keeping every library mapped changes nothing else for a process that is
 * about to exit, and a reloading master dlopen()s the same file again
 * (the same mapping, one more reference).
 */


int
dlclose(void *handle)
{
    (void) handle;

    return 0;
}
