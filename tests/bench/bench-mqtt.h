#ifndef NATTER_BENCH_BENCH_MQTT_H
#define NATTER_BENCH_BENCH_MQTT_H

#include "bench-conn.h"

/*
 * MQTT 3.1.1 at QoS 0: CONNECT/CONNACK (READY), SUBSCRIBE/SUBACK (pairing:
 * the receiver subscribes to its own topic; groups: one topic), PUBLISH
 * (sends; inbound ones are MSG). QoS 0 has no acknowledgement.
 */
extern const struct bench_proto bench_mqtt_proto;

#endif
