/**
 * The constants of Java Object Serialization streams (Java Object
 * Serialization Specification, chapter 6) that the reader and the writer
 * of `Throwable`s share. Internal to `src/wire/`.
 *
 * @module
 */

export const STREAM_MAGIC = 0xaced;
export const STREAM_VERSION = 5;
export const STREAM_HEADER = Uint8Array.of(0xac, 0xed, 0x00, 0x05);
export const TC_NULL = 0x70;
export const TC_REFERENCE = 0x71;
export const TC_CLASSDESC = 0x72;
export const TC_OBJECT = 0x73;
export const TC_STRING = 0x74;
export const TC_ARRAY = 0x75;
export const TC_CLASS = 0x76;
export const TC_BLOCKDATA = 0x77;
export const TC_ENDBLOCKDATA = 0x78;
export const TC_RESET = 0x79;
export const TC_BLOCKDATALONG = 0x7a;
export const TC_EXCEPTION = 0x7b;
export const TC_LONGSTRING = 0x7c;
export const TC_PROXYCLASSDESC = 0x7d;
export const TC_ENUM = 0x7e;
export const BASE_WIRE_HANDLE = 0x7e0000;

export const SC_WRITE_METHOD = 0x01;
export const SC_SERIALIZABLE = 0x02;
export const SC_EXTERNALIZABLE = 0x04;
export const SC_BLOCK_DATA = 0x08;

export const THROWABLE = "java.lang.Throwable";
export const STACK_TRACE_ELEMENT = "java.lang.StackTraceElement";

/** Size in bytes of each primitive field/array type code; 0 for non-primitives. */
export const PRIMITIVE_SIZE = new Uint8Array(128);
PRIMITIVE_SIZE[0x42] = 1; // B byte
PRIMITIVE_SIZE[0x43] = 2; // C char
PRIMITIVE_SIZE[0x44] = 8; // D double
PRIMITIVE_SIZE[0x46] = 4; // F float
PRIMITIVE_SIZE[0x49] = 4; // I int
PRIMITIVE_SIZE[0x4a] = 8; // J long
PRIMITIVE_SIZE[0x53] = 2; // S short
PRIMITIVE_SIZE[0x5a] = 1; // Z boolean
export const CODE_OBJECT = 0x4c; // L
export const CODE_ARRAY = 0x5b; // [
