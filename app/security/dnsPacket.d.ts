/**
 * The part of dns-packet's API that dnsMessage.ts uses, typed for the pure areas. The package's
 * own types (@types/dns-packet) start with `/// <reference types="node" />`, which would hand all
 * of Node (sockets, timers) to every pure file; app/tsconfig.pure.json maps 'dns-packet' here.
 * Field names and shapes follow @types/dns-packet 5.6.
 */
export type RecordClass = 'IN' | 'CS' | 'CH' | 'HS' | 'ANY';

export interface Question {
  type: string;
  name: string;
  class?: RecordClass;
}

interface BaseAnswer<T, D> {
  type: T;
  name: string;
  ttl?: number;
  class?: RecordClass;
  flush?: boolean;
  data: D;
}

export type StringAnswer = BaseAnswer<'A' | 'AAAA' | 'CNAME' | 'DNAME' | 'NS' | 'PTR', string>;
export type TxtAnswer = BaseAnswer<'TXT', string | Buffer | Array<string | Buffer>>;
export type SrvAnswer = BaseAnswer<'SRV', { port: number; target: string; priority?: number; weight?: number }>;
export type TlsaAnswer = BaseAnswer<
  'TLSA',
  { usage: number; selector: number; matchingType: number; certificate: Buffer }
>;
export type SoaAnswer = BaseAnswer<
  'SOA',
  {
    mname: string;
    rname: string;
    serial?: number;
    refresh?: number;
    retry?: number;
    expire?: number;
    minimum?: number;
  }
>;
export interface OptAnswer {
  type: 'OPT';
  name: string;
  udpPayloadSize: number;
  extendedRcode: number;
  ednsVersion: number;
  flags: number;
  flag_do: boolean;
  options: unknown[];
}
/** Every other record type (RRSIG, NSEC, ...): dnsMessage.ts reads none of their data. */
export type OtherAnswer = BaseAnswer<'RRSIG' | 'NSEC' | 'NSEC3' | 'DNSKEY' | 'DS' | 'MX' | 'CAA' | 'HINFO', unknown>;

export type Answer = StringAnswer | TxtAnswer | SrvAnswer | TlsaAnswer | SoaAnswer | OptAnswer | OtherAnswer;

export interface Packet {
  type?: 'query' | 'response';
  id?: number;
  flags?: number;
  questions?: Question[];
  answers?: Answer[];
  additionals?: Answer[];
  authorities?: Answer[];
}

export interface DecodedPacket extends Packet {
  flag_qr: boolean;
  flag_aa: boolean;
  flag_tc: boolean;
  flag_rd: boolean;
  flag_ra: boolean;
  flag_z: boolean;
  flag_ad: boolean;
  flag_cd: boolean;
}

export const RECURSION_DESIRED: number;
export const DNSSEC_OK: number;
export function encode(packet: Packet, buf?: Buffer, offset?: number): Buffer;
export function decode(buf: Buffer, offset?: number): DecodedPacket;
