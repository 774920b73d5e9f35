// libzmq's C API, as the zeromq queue plugin sees it (Debian libzmq3-dev).
#pragma once
#include <zmq.h>
