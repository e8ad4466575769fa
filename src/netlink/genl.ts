import { KernelError } from './errors.ts';
import { NetlinkConnection } from './connection.ts';
import { encodeGenl, decodeGenl } from './message.ts';
import { decodeAttrs, encodeAttrs, readU16, str } from './attributes.ts';

/** NETLINK_GENERIC protocol number. */
export const NETLINK_GENERIC = 16;
/** The generic-netlink controller's fixed family id. */
const GENL_ID_CTRL = 0x10;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;

/**
 * Resolves a generic-netlink family name (e.g. "IPVS") to its id. Rejects with
 * `KernelError` code `ENOENT` when the kernel has no such family (module not
 * loaded or not built), or the socket's error.
 */
export async function resolveFamily(conn: NetlinkConnection, name: string): Promise<number> {
  const payload = encodeGenl({ cmd: CTRL_CMD_GETFAMILY, version: 1 },
    encodeAttrs([{ type: CTRL_ATTR_FAMILY_NAME, value: str(name) }]));
  const replies = await conn.request({ type: GENL_ID_CTRL, payload }, 'resolve genl family', name);
  for (const r of replies) {
    const id = readU16(decodeAttrs(decodeGenl(r.data).attrs), CTRL_ATTR_FAMILY_ID);
    if (id !== undefined) return id;
  }
  throw new KernelError('ENOENT', 'resolve genl family', name, 'no family id in the answer');
}
