import { MemoryTransport } from "../../src/transport/memory.ts";
import { registerTransportCases } from "./_register.ts";

registerTransportCases("memory", new MemoryTransport(), false);
