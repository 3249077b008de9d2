// The module is its header (`include/CICWSPrefetch.h`); a C target needs one source file.
#include "CICWSPrefetch.h"
