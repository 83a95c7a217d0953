/*
 * core.p4 for p4sim: the P4_16 core library, declared from the P4_16 language
 * specification (section "P4 core library"). It declares exactly what p4sim
 * implements, with the spec's names and types, so that a program accepted by
 * p4sim is also accepted by other P4_16 compilers.
 */
/* The include guard is the one P4 programs test for, as with p4c's core.p4. */
#ifndef _CORE_P4_
#define _CORE_P4_

/* Errors signalled by the packet_in methods and by verify(); numbered in this order. */
error {
    NoError,
    PacketTooShort,
    NoMatch,
    StackOutOfBounds,
    HeaderTooShort,
    ParserTimeout,
    ParserInvalidArgument
}

/* The packet as the parser sees it. */
extern packet_in {
    /* Copy hdr's width worth of bits from the packet into hdr and make it valid. */
    void extract<T>(out T hdr);
    /* Same, for a header with one varbit field of the given size in bits. */
    void extract<T>(out T variableSizeHeader, in bit<32> variableFieldSizeInBits);
    /* The next T-sized piece of the packet, without consuming it. */
    T lookahead<T>();
    /* Skip bits of the packet. */
    void advance(in bit<32> sizeInBits);
    /* Total packet length in bytes. */
    bit<32> length();
}

/* The packet as the deparser builds it. */
extern packet_out {
    /* Append hdr if it is valid (structs and stacks: each valid header in order). */
    void emit<T>(in T hdr);
}

/* In a parser: if check is false, stop parsing with error toSignal. */
extern void verify(in bool check, in error toSignal);

/* The action that does nothing: the implicit default of every table. */
@noWarn("unused")
action NoAction() {}

/* Evaluated by the compiler: an error (with the message) if check is false; true otherwise. */
extern bool static_assert(bool check, string message);
extern bool static_assert(bool check);

/* Match kinds of the core library. */
match_kind {
    exact,
    ternary,
    lpm
}

#endif  /* _CORE_P4_ */
