/* arch.c: the one place the architecture's assembly is emitted. */
#define ARCH_DEFINE_FUNCTIONS 1
#include "arch.h"
