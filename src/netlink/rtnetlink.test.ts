// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { NlmF } from './message.ts';
import { Af, IfaF, Iff, Rtm, RtDecodeError, decodeAddress, decodeLink, encodeIfAddrMsg, encodeIfInfoMsg, rtRequest } from './rtnetlink.ts';
import { recordedAddress4, recordedAddress6, recordedDummyLink, recordedIndex } from './rtnetlink-fixtures.ts';

const bytes = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');
const hex = (b: Buffer): string => b.toString('hex').replace(/(.{8})/g, '$1 ').trim();

const noInfo = '00000000 00000000 00000000 00000000';
/** IFLA_IFNAME "kipvs-t0": length 13 (4 + 8 + NUL), type 3, padded to 16. */
const nameT0 = '0d000300 6b697076 732d7430 00000000';

describe('rtnetlink codec: headers (exact bytes, host-endian)', () => {
  it('encodes ifinfomsg: family, pad, type u16, index s32, flags u32, change u32', () => {
    expect(hex(encodeIfInfoMsg({ family: Af.Inet6, type: 1, index: 7, flags: Iff.Up, change: 0xffffffff })))
      .toBe(hex(bytes('0a000100 07000000 01000000 ffffffff')));
  });

  it('encodes ifaddrmsg: family, prefix, flags, scope, index u32', () => {
    expect(hex(encodeIfAddrMsg({ family: Af.Inet, prefixLength: 32, flags: IfaF.NoDad, scope: 254, index: 0x01020304 })))
      .toBe(hex(bytes('022002fe 04030201')));
  });
});

describe('rtnetlink codec: requests (exact bytes)', () => {
  it.each([
    { name: 'RTM_GETLINK by name', req: rtRequest.getLink('kipvs-t0'), type: Rtm.GetLink, flags: undefined, payload: noInfo + nameT0 },
    { name: 'RTM_GETLINK dump', req: rtRequest.dumpLinks(), type: Rtm.GetLink, flags: undefined, payload: noInfo },
    { name: 'RTM_DELLINK by name', req: rtRequest.delLink('kipvs-t0'), type: Rtm.DelLink, flags: undefined, payload: noInfo + nameT0 },
    {
      name: 'RTM_SETLINK up (flags and change mask IFF_UP)', req: rtRequest.setLinkFlags('kipvs-t0', Iff.Up, Iff.Up),
      type: Rtm.SetLink, flags: undefined, payload: '00000000 00000000 01000000 01000000' + nameT0,
    },
    {
      // IFLA_LINKINFO (18) nested by hand: NLA_F_NESTED set (0x8012), holding
      // IFLA_INFO_KIND (1) "dummy\0" (length 10, padded to 12).
      name: 'RTM_NEWLINK dummy, create-only', req: rtRequest.newLink('kipvs-t0', 'dummy'), type: Rtm.NewLink,
      flags: NlmF.Create | NlmF.Excl, payload: noInfo + nameT0 + '10001280 0a000100 64756d6d 79000000',
    },
    { name: 'RTM_GETADDR dump, all families', req: rtRequest.dumpAddresses(), type: Rtm.GetAddr, flags: undefined, payload: '00000000 00000000' },
    { name: 'RTM_GETADDR dump, IPv6', req: rtRequest.dumpAddresses(Af.Inet6), type: Rtm.GetAddr, flags: undefined, payload: '0a000000 00000000' },
  ])('encodes $name', ({ req, type, flags, payload }) => {
    expect(req.type).toBe(type);
    expect(req.flags).toBe(flags);
    expect(hex(req.payload)).toBe(hex(bytes(payload)));
  });

  const v4 = { family: Af.Inet, address: Uint8Array.from([10, 96, 0, 10]), prefixLength: 32, index: 5, flags: 0 };
  const v6Bytes = bytes('fd000096 00000000 00000000 00000010');
  const v6 = { family: Af.Inet6, address: v6Bytes, prefixLength: 128, index: 5, flags: IfaF.NoDad };

  it('encodes RTM_NEWADDR IPv4 /32: create-only, scope global, IFA_LOCAL and IFA_ADDRESS both the address', () => {
    const req = rtRequest.newAddr(v4);
    expect(req).toMatchObject({ type: Rtm.NewAddr, flags: NlmF.Create | NlmF.Excl });
    expect(hex(req.payload)).toBe(hex(bytes('02200000 05000000' + '08000200 0a60000a' + '08000100 0a60000a')));
  });

  it('encodes RTM_NEWADDR IPv6 /128 with IFA_F_NODAD in ifa_flags', () => {
    expect(hex(rtRequest.newAddr(v6).payload)).toBe(hex(bytes(
      '0a800200 05000000' + '14000200 fd000096 00000000 00000000 00000010' + '14000100 fd000096 00000000 00000000 00000010')));
  });

  it('encodes RTM_DELADDR by address and prefix, never with address flags', () => {
    const req = rtRequest.delAddr(v6);
    expect(req.type).toBe(Rtm.DelAddr);
    expect(req.flags).toBeUndefined();
    expect(hex(req.payload).slice(0, 17)).toBe('0a800000 05000000');
  });
});

describe('rtnetlink codec: answers recorded from the kernel', () => {
  it('decodes a dummy link: index, name, kind from IFLA_LINKINFO, flags, mtu', () => {
    expect(decodeLink(bytes(recordedDummyLink))).toEqual({
      index: recordedIndex, name: 'kipvs-r0', kind: 'dummy', flags: Iff.Broadcast | Iff.NoArp, mtu: 1500,
    });
  });

  it('decodes an IPv4 address: IFA_LOCAL, IFA_LABEL, IFA_FLAGS (permanent)', () => {
    expect(decodeAddress(bytes(recordedAddress4))).toEqual({
      family: Af.Inet, prefixLength: 32, flags: IfaF.Permanent, scope: 0, index: recordedIndex,
      address: Buffer.from([10, 96, 0, 10]), label: 'kipvs-r0',
    });
  });

  it('decodes an IPv6 address: IFA_ADDRESS only, no label, IFA_FLAGS (permanent, nodad)', () => {
    expect(decodeAddress(bytes(recordedAddress6))).toEqual({
      family: Af.Inet6, prefixLength: 128, flags: IfaF.Permanent | IfaF.NoDad, scope: 0, index: recordedIndex,
      address: bytes('fd000096 00000000 00000000 00000010'), label: null,
    });
  });

  it('takes the 32-bit IFA_FLAGS over the 8-bit ifa_flags', () => {
    // ifa_flags 0x00, IFA_FLAGS 0x00000240 (IFA_F_TENTATIVE | IFA_F_NOPREFIXROUTE).
    const payload = bytes('0a800000 01000000' + '14000100 fd000000 00000000 00000000 00000001' + '08000800 40020000');
    expect(decodeAddress(payload).flags).toBe(0x240);
  });
});

describe('rtnetlink codec: malformed answers', () => {
  it.each([
    { name: 'link shorter than ifinfomsg', run: () => decodeLink(bytes('00000100 04000000')) },
    { name: 'link without IFLA_IFNAME', run: () => decodeLink(bytes(noInfo + '08000400 dc050000')) },
    { name: 'link with an attribute overrunning the buffer', run: () => decodeLink(bytes(noInfo + '20000300 6b697076')) },
    { name: 'address shorter than ifaddrmsg', run: () => decodeAddress(bytes('02200000')) },
    { name: 'address without IFA_LOCAL or IFA_ADDRESS', run: () => decodeAddress(bytes('02200000 01000000 08000800 80000000')) },
  ])('throws RtDecodeError (EBADMSG): $name', ({ run }) => {
    expect(run).toThrow(RtDecodeError);
    try {
      run();
    } catch (err) {
      expect((err as RtDecodeError).code).toBe('EBADMSG');
    }
  });
});
