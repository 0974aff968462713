/**
 * The image-reference grammar of distribution/reference, built from named pieces:
 *
 *   reference           := name [ ":" tag ] [ "@" digest ]
 *   name                := [ domain "/" ] path
 *   domain              := host [ ":" port ]
 *   host                := domain-name | "[" ipv6-address "]"
 *   domain-name         := domain-component [ "." domain-component ]*
 *   domain-component    := /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/
 *   port                := /[0-9]+/
 *   ipv6-address        := /[a-fA-F0-9:]+/       ; no zone identifier, no embedded IPv4
 *   path                := path-component [ "/" path-component ]*
 *   path-component      := alpha-numeric [ separator alpha-numeric ]*
 *   alpha-numeric       := /[a-z0-9]+/
 *   separator           := /[._]|__|[-]+/
 *   tag                 := /[\w][\w.-]{0,127}/
 *   digest              := algorithm ":" encoded
 *   algorithm           := algorithm-component [ /[-_+.]/ algorithm-component ]*
 *   algorithm-component := /[A-Za-z][A-Za-z0-9]{0,}/
 *   identifier          := /[a-f0-9]{64}/         ; a bare image ID, never a name
 *
 * The parser applies these to one piece at a time (a label, a path component, a tag), never to
 * the whole input, so every match is linear in the length of what it reads.
 */

const alphaNumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|-+)";
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;

const domainComponent = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6Address = "[a-fA-F0-9:]+";
const host = `(?:${domainName}|\\[${ipv6Address}\\])`;
const port = "[0-9]+";
const domain = `${host}(?::${port})?`;

const tag = "\\w[\\w.-]{0,127}";

const algorithmComponent = "[A-Za-z][A-Za-z0-9]*";
const algorithm = `${algorithmComponent}(?:[-_+.]${algorithmComponent})*`;

const identifier = "[a-f0-9]{64}";

const anchored = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

/** One "/"-separated component of a repository path, e.g. `library` or `my-app`. */
export const PATH_COMPONENT = anchored(pathComponent);
/** One "."-separated label of a registry host name, e.g. `registry-1`. */
export const DOMAIN_COMPONENT = anchored(domainComponent);
/** A registry: host name, IPv4 or bracketed IPv6 address, with an optional port. */
export const DOMAIN = anchored(domain);
/** The contents of the brackets of an IPv6 registry address. */
export const IPV6_ADDRESS = anchored(ipv6Address);
export const PORT = anchored(port);
export const TAG = anchored(tag);
export const DIGEST_ALGORITHM = anchored(algorithm);
export const IDENTIFIER = anchored(identifier);

/** Where a name without a registry lives: Docker Hub. */
export const DEFAULT_REGISTRY = "docker.io";
/** Docker Hub's legacy name, rewritten to DEFAULT_REGISTRY. */
export const LEGACY_DEFAULT_REGISTRY = "index.docker.io";
/** The namespace of Docker Hub's official images (`busybox` is `library/busybox`). */
export const OFFICIAL_NAMESPACE = "library/";
/** Always a registry, even without a "." or a port. */
export const LOCALHOST = "localhost";
/** The tag a reference gets when it has neither tag nor digest. */
export const DEFAULT_TAG = "latest";

/** distribution/reference counts the repository path only, without the registry. */
export const MAX_PATH_LENGTH = 255;
export const MAX_TAG_LENGTH = 128;
