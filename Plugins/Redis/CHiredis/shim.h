// hiredis's C API, as the redis router plugin sees it (Debian libhiredis-dev).
#pragma once
#include <hiredis/hiredis.h>
