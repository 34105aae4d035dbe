// LAPACK (through LAPACKE) and CBLAS from Debian: liblapacke-dev and libopenblas-dev,
// whose liblapack.so.3 and libblas.so.3 are OpenBLAS.
#include <lapacke.h>
#include <cblas.h>
