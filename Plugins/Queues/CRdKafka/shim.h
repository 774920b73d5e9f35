// librdkafka's C API, as the kafka queue plugin sees it (Debian librdkafka-dev).
#pragma once
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
