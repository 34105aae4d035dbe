// The oldest Linux a released mwad runs on (and so the wheel's manylinux tag): three
// functions bound by the build machine's libraries to symbol versions newer than
// anything else the binary needs. Swift's statically linked Foundation and Glibc
// overlays call hypot and hypotf, which glibc >= 2.35 versions GLIBC_2.35; a statically
// linked C++ library waits on std::condition_variable, which libstdc++ >= 12 versions
// GLIBCXX_3.4.30. Defined here, they resolve inside the binary and forward to the
// versions those libraries still export for older programs (GLIBC_2.2.5,
// GLIBCXX_3.4.11), so the floor is what the rest needs: glibc 2.34 (the pthread symbols
// merged into libc) and GCC 11's libstdc++ (GLIBCXX_3.4.29): Debian 12, Ubuntu 22.04,
// RHEL 9. `auditwheel show` in scripts/build-wheel.sh reports the result.
#include <features.h>

#if defined(__linux__) && defined(__x86_64__) && defined(__GLIBC__)
double mwad_hypot_2_2_5(double x, double y);
float mwad_hypotf_2_2_5(float x, float y);
__asm__(".symver mwad_hypot_2_2_5, hypot@GLIBC_2.2.5");
__asm__(".symver mwad_hypotf_2_2_5, hypotf@GLIBC_2.2.5");

double hypot(double x, double y) { return mwad_hypot_2_2_5(x, y); }
float hypotf(float x, float y) { return mwad_hypotf_2_2_5(x, y); }

// void std::condition_variable::wait(std::unique_lock<std::mutex>&)
void mwad_condition_wait_3_4_11(void *condition, void *lock);
__asm__(".symver mwad_condition_wait_3_4_11, _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
void mwad_condition_wait(void *condition, void *lock) __asm__("_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE");
void mwad_condition_wait(void *condition, void *lock) { mwad_condition_wait_3_4_11(condition, lock); }
#endif
