/*
 * v1model.p4 for p4sim: the v1model architecture (BMv2 simple_switch) as p4sim
 * implements it. Names, types and widths are those of the v1model architecture
 * that p4c ships, so that a program p4sim accepts is accepted by p4c-bm2-ss too.
 * Action profiles and selectors are declared (p4c-bm2-ss accepts them) and p4sim
 * refuses their instances by name; the externs p4c-bm2-ss itself rejects
 * (Checksum16, resubmit/recirculate/clone3 with data, mark_to_drop()) are absent.
 *
 * V1MODEL_VERSION selects the declaration variant, as with p4c: the default
 * (20180101) uses bit<32> indices; 20200408 and later make counter, meter and
 * register generic in their index type and add PortId_t.
 */
/* The include guard is the one P4 programs test for, as with p4c's v1model.p4. */
#ifndef _V1_MODEL_P4_
#define _V1_MODEL_P4_

#include <core.p4>

#ifndef V1MODEL_VERSION
#define V1MODEL_VERSION 20180101
#endif

match_kind {
    range,
    optional,
    selector
}

const bit<32> __v1model_version = V1MODEL_VERSION;

#if V1MODEL_VERSION >= 20200408
typedef bit<9> PortId_t;
#endif

/* Per-packet intrinsic metadata of simple_switch. */
@metadata @name("standard_metadata")
struct standard_metadata_t {
    bit<9>  ingress_port;
    bit<9>  egress_spec;      /* set in ingress: the output port (511 drops) */
    bit<9>  egress_port;      /* in egress: the port the packet leaves by */
    bit<32> instance_type;    /* normal, clone, replication, ... */
    bit<32> packet_length;    /* bytes */
    @alias("queueing_metadata.enq_timestamp")
    bit<32> enq_timestamp;
    @alias("queueing_metadata.enq_qdepth")
    bit<19> enq_qdepth;
    @alias("queueing_metadata.deq_timedelta")
    bit<32> deq_timedelta;
    @alias("queueing_metadata.deq_qdepth")
    bit<19> deq_qdepth;
    @alias("intrinsic_metadata.ingress_global_timestamp")
    bit<48> ingress_global_timestamp;
    @alias("intrinsic_metadata.egress_global_timestamp")
    bit<48> egress_global_timestamp;
    @alias("intrinsic_metadata.mcast_grp")
    bit<16> mcast_grp;        /* non-zero: replicate to this multicast group */
    @alias("intrinsic_metadata.egress_rid")
    bit<16> egress_rid;       /* replica id of a multicast copy */
    bit<1>  checksum_error;   /* set by verify_checksum on mismatch */
    error   parser_error;     /* the parser's error, NoError if it accepted */
    @alias("intrinsic_metadata.priority")
    bit<3>  priority;
}

enum CounterType {
    packets,
    bytes,
    packets_and_bytes
}

enum MeterType {
    packets,
    bytes
}

/* An array of counters indexed from the data plane, read by the controller. */
#if V1MODEL_VERSION >= 20200408
extern counter<I> {
    counter(bit<32> size, CounterType type);
    void count(in I index);
}
#else
extern counter {
    counter(bit<32> size, CounterType type);
    void count(in bit<32> index);
}
#endif

/* A counter per entry of the table it is attached to (table property "counters"). */
extern direct_counter {
    direct_counter(CounterType type);
    void count();
}

/* Colours returned by meters. */
#define V1MODEL_METER_COLOR_GREEN  0
#define V1MODEL_METER_COLOR_YELLOW 1
#define V1MODEL_METER_COLOR_RED    2

/* An array of two-rate three-colour meters (RFC 2698). */
#if V1MODEL_VERSION >= 20200408
extern meter<I> {
    meter(bit<32> size, MeterType type);
    void execute_meter<T>(in I index, out T result);
}
#else
extern meter {
    meter(bit<32> size, MeterType type);
    void execute_meter<T>(in bit<32> index, out T result);
}
#endif

/* A meter per entry of the table it is attached to (table property "meters"). */
extern direct_meter<T> {
    direct_meter(MeterType type);
    void read(out T result);
}

/* An array of cells of type T, readable and writable from the data plane. */
#if V1MODEL_VERSION >= 20200408
extern register<T, I> {
    register(bit<32> size);
    @noSideEffects
    void read(out T result, in I index);
    void write(in I index, in T value);
}
#else
extern register<T> {
    register(bit<32> size);
    @noSideEffects
    void read(out T result, in bit<32> index);
    void write(in bit<32> index, in T value);
}
#endif

/* result = a pseudo-random value in [lo, hi]. */
/* A table implementation shared by the entries of a table (not supported by p4sim). */
extern action_profile {
    action_profile(bit<32> size);
}

extern void random<T>(out T result, in T lo, in T hi);

/* Send data (a struct) to the controller as a digest; one per packet. */
extern void digest<T>(in bit<32> receiver, in T data);

enum HashAlgorithm {
    crc32,
    crc32_custom,
    crc16,
    crc16_custom,
    random,
    identity,
    csum16,
    xor16
}

/* Drop the packet at the end of the current pipeline (sets egress_spec to the drop port). */
@pure
extern void mark_to_drop(inout standard_metadata_t standard_metadata);

/* result = base + (algo(data) mod max) (max 0: no reduction). */
@pure
extern void hash<O, T, D, M>(out O result, in HashAlgorithm algo, in T base, in D data, in M max);

/* An action profile whose member a hash of the selector keys picks (not supported by p4sim). */
extern action_selector {
    action_selector(HashAlgorithm algorithm, bit<32> size, bit<32> outputWidth);
}

enum CloneType {
    I2E,
    E2E
}

/* Checksum verification (VerifyChecksum control) and update (ComputeChecksum control). */
extern void verify_checksum<T, O>(in bool condition, in T data, in O checksum, HashAlgorithm algo);
@pure
extern void update_checksum<T, O>(in bool condition, in T data, inout O checksum, HashAlgorithm algo);
extern void verify_checksum_with_payload<T, O>(in bool condition, in T data, in O checksum, HashAlgorithm algo);
@noSideEffects
extern void update_checksum_with_payload<T, O>(in bool condition, in T data, inout O checksum, HashAlgorithm algo);

/* Clone the packet to a clone session at the end of ingress (I2E) or egress (E2E). */
extern void clone(in CloneType type, in bit<32> session);
/* The same, keeping the metadata fields annotated @field_list(index) in the clone. */
extern void clone_preserving_field_list(in CloneType type, in bit<32> session, bit<8> index);
extern void resubmit_preserving_field_list(bit<8> index);
extern void recirculate_preserving_field_list(bit<8> index);

/* Cut the packet to at most length bytes on output. */
extern void truncate(in bit<32> length);

extern void assert(in bool check);
extern void assume(in bool check);

/* Log a message (with "{}" placeholders filled from data) to the switch log. */
extern void log_msg(string msg);
extern void log_msg<T>(string msg, in T data);

parser Parser<H, M>(packet_in b,
                    out H parsedHdr,
                    inout M meta,
                    inout standard_metadata_t standard_metadata);
control VerifyChecksum<H, M>(inout H hdr, inout M meta);
@pipeline
control Ingress<H, M>(inout H hdr, inout M meta, inout standard_metadata_t standard_metadata);
@pipeline
control Egress<H, M>(inout H hdr, inout M meta, inout standard_metadata_t standard_metadata);
control ComputeChecksum<H, M>(inout H hdr, inout M meta);
@deparser
control Deparser<H>(packet_out b, in H hdr);

/* The v1model pipeline: parser, checksum verification, ingress, egress,
 * checksum update, deparser. */
package V1Switch<H, M>(Parser<H, M> p,
                       VerifyChecksum<H, M> vr,
                       Ingress<H, M> ig,
                       Egress<H, M> eg,
                       ComputeChecksum<H, M> ck,
                       Deparser<H> dep);

#endif
