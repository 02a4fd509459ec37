/*
 * Address rules for CLIENT_ALLOW, STATS_ALLOW, WORKER_ALLOW, DEST_ALLOW
 * and DEST_DENY: parsing "ADDR[/LEN][:PORT[-PORT]]" text and matching
 * socket addresses against it.  Pure: no I/O, no logging; the config
 * parser and the accept/dial paths call it.
 *
 * Deny rules see through the IPv6 forms that carry an IPv4 address
 * (mapped, SIIT, compatible, NAT64 and local-use NAT64, 6to4), so that
 * an IPv4 deny rule cannot be sidestepped by writing the destination in
 * IPv6.  Allow rules take only the mapped form (::ffff:a.b.c.d, an IPv4
 * peer on a dual-stack socket) as the IPv4 address: anyone can send from
 * a 6to4 or NAT64 address that embeds an allowed IPv4 one.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "xmalloc.h"

/* Longest address text we accept, with room for "/128". */
#define CIDR_TEXT_MAX	(INET6_ADDRSTRLEN + 4)

/* A block of addresses, for the private-network table. */
struct cidr_block {
	int		family;
	uint8_t		addr[16];
	unsigned int	prefix;
};

static const struct cidr_block cidr_private_blocks[] = {
	{ AF_INET, { 127 }, 8 },		/* loopback */
	{ AF_INET, { 10 }, 8 },			/* RFC 1918 */
	{ AF_INET, { 172, 16 }, 12 },
	{ AF_INET, { 192, 168 }, 16 },
	{ AF_INET, { 169, 254 }, 16 },		/* link-local */
	{ AF_INET, { 100, 64 }, 10 },		/* CGNAT, RFC 6598 */
	{ AF_INET6, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 },
	{ AF_INET6, { 0xfc }, 7 },		/* unique local */
	{ AF_INET6, { 0xfe, 0x80 }, 10 },	/* link-local */
};

static const uint8_t cidr_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Whether the first prefix bits of a and b are equal. */
static int
cidr_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int prefix)
{
	unsigned int	bytes = prefix / 8, bits = prefix % 8;
	uint8_t		mask;

	if (memcmp(a, b, bytes) != 0)
		return (0);
	if (bits == 0)
		return (1);
	mask = (uint8_t)(0xff << (8 - bits));
	return ((a[bytes] & mask) == (b[bytes] & mask));
}

/* Clear the bits of addr past prefix, in a len-byte address. */
static void
cidr_mask(uint8_t *addr, size_t len, unsigned int prefix)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (prefix >= 8)
			prefix -= 8;
		else {
			addr[i] &= (uint8_t)(0xff << (8 - prefix));
			prefix = 0;
		}
	}
}

/* Parse 1-5 decimal digits up to end as a port, or return -1. */
static long
cidr_parse_port(const char *s, const char *end)
{
	long	v = 0;

	if (end == s || end - s > 5)
		return (-1);
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (*s - '0');
	}
	if (v > 65535)
		return (-1);
	return (v);
}

/* Parse "PORT" or "LO-HI" into the rule; return a reason on failure. */
static const char *
cidr_parse_ports(const char *s, struct cidr *rule)
{
	const char	*dash, *end = s + strlen(s);
	long		 lo, hi;

	if ((dash = strchr(s, '-')) == NULL) {
		if ((lo = cidr_parse_port(s, end)) == -1)
			return ("port must be 0..65535");
		hi = lo;
	} else {
		if ((lo = cidr_parse_port(s, dash)) == -1 ||
		    (hi = cidr_parse_port(dash + 1, end)) == -1)
			return ("ports must be 0..65535");
		if (lo > hi)
			return ("port range is backwards");
	}
	rule->port_lo = (uint16_t)lo;
	rule->port_hi = (uint16_t)hi;
	return (NULL);
}

/*
 * Parse "ADDR[/LEN]" (len bytes at s) into the rule's family, address and
 * prefix; return a reason on failure.
 */
static const char *
cidr_parse_block(const char *s, size_t len, struct cidr *rule)
{
	char		 text[CIDR_TEXT_MAX + 1];
	char		*slash;
	const char	*p;
	unsigned int	 prefix, max;

	if (len == 0)
		return ("no address");
	if (len > CIDR_TEXT_MAX)
		return ("address too long");
	memcpy(text, s, len);
	text[len] = '\0';

	if ((slash = strchr(text, '/')) != NULL)
		*slash = '\0';
	if (strchr(text, ':') != NULL) {
		rule->family = AF_INET6;
		max = 128;
	} else {
		rule->family = AF_INET;
		max = 32;
	}
	memset(rule->addr, 0, sizeof(rule->addr));
	if (inet_pton(rule->family, text, rule->addr) != 1)
		return (rule->family == AF_INET6 ? "bad IPv6 address" :
		    "bad IPv4 address");

	prefix = max;
	if (slash != NULL) {
		p = slash + 1;
		/* Canonical decimal only: no sign, no blanks, no "08". */
		if (*p == '\0' || strlen(p) > 3 ||
		    (p[0] == '0' && p[1] != '\0'))
			return ("bad prefix length");
		for (prefix = 0; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return ("bad prefix length");
			prefix = prefix * 10 + (unsigned int)(*p - '0');
		}
		if (prefix > max)
			return (max == 32 ? "prefix length must be 0..32" :
			    "prefix length must be 0..128");
	}
	rule->prefix = prefix;
	cidr_mask(rule->addr, max / 8, prefix);
	return (NULL);
}

/*
 * Parse one rule.  allow_port says whether a port or range may follow;
 * without one the rule covers every port.  Host bits past the prefix are
 * cleared.  Returns 0, or -1 with a cause.
 */
int
cidr_parse(const char *s, int allow_port, struct cidr *rule, char **cause)
{
	const char	*close, *colon, *ports = NULL, *why;
	size_t		 len;
	struct cidr	 tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.port_lo = 0;
	tmp.port_hi = 65535;

	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			why = "missing ']'";
			goto fail;
		}
		if (close[1] == ':')
			ports = close + 2;
		else if (close[1] != '\0') {
			why = "want ':' after ']'";
			goto fail;
		}
		why = cidr_parse_block(s + 1, close - s - 1, &tmp);
	} else {
		/*
		 * Unbracketed: one colon separates an IPv4 address from its
		 * port; two or more make a bare IPv6 address with no port.
		 */
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			ports = colon + 1;
			len = colon - s;
		} else
			len = strlen(s);
		why = cidr_parse_block(s, len, &tmp);
		if (why == NULL && ports != NULL && tmp.family != AF_INET)
			why = "IPv6 address with a port needs brackets";
	}
	if (why != NULL)
		goto fail;
	if (ports != NULL) {
		if (!allow_port) {
			why = "no port allowed here";
			goto fail;
		}
		if ((why = cidr_parse_ports(ports, &tmp)) != NULL)
			goto fail;
	}
	*rule = tmp;
	return (0);

fail:
	xasprintf(cause, "bad address rule '%s' (%s)", s, why);
	return (-1);
}

/*
 * Parse a space-separated list of rules; an empty string is an empty
 * list.  On failure the list is left empty and nothing is allocated.
 */
int
cidr_list_parse(const char *s, int allow_port, struct cidr_list *list,
    char **cause)
{
	struct cidr_list	 tmp;
	char			*copy, *word, *next;
	size_t			 n = 0;

	memset(&tmp, 0, sizeof(tmp));
	memset(list, 0, sizeof(*list));

	copy = xstrdup(s);
	for (next = copy; (word = strsep(&next, " \t")) != NULL; /* */) {
		if (*word != '\0')
			n++;
	}
	free(copy);
	if (n == 0)
		return (0);

	tmp.rules = xcalloc(n, sizeof(*tmp.rules));
	copy = xstrdup(s);
	for (next = copy; (word = strsep(&next, " \t")) != NULL; /* */) {
		if (*word == '\0')
			continue;
		if (cidr_parse(word, allow_port, &tmp.rules[tmp.count],
		    cause) != 0) {
			free(copy);
			free(tmp.rules);
			return (-1);
		}
		tmp.count++;
	}
	free(copy);
	*list = tmp;
	return (0);
}

/* Free a list's rules and leave it empty. */
void
cidr_list_free(struct cidr_list *list)
{
	free(list->rules);
	list->rules = NULL;
	list->count = 0;
}

/* Make dst an independent copy of src; dst's old contents are not freed. */
void
cidr_list_copy(struct cidr_list *dst, const struct cidr_list *src)
{
	dst->rules = NULL;
	dst->count = 0;
	if (src->count == 0)
		return;
	dst->rules = xcalloc(src->count, sizeof(*dst->rules));
	memcpy(dst->rules, src->rules, src->count * sizeof(*dst->rules));
	dst->count = src->count;
}

/*
 * If the IPv6 address embeds an IPv4 address, copy it to v4 and return 1:
 * ::ffff:0:0/96 (mapped), ::ffff:0:0:0/96 (SIIT's IPv4-translated form,
 * RFC 2765), ::/96 apart from :: and ::1 (compatible), 64:ff9b::/96
 * (NAT64, RFC 6052), 64:ff9b:1::/48 (local-use NAT64, RFC 8215) and
 * 2002::/16 (6to4, bits 16..47).  A local-use NAT64 prefix may be cut
 * anywhere inside its /48; the IPv4 address is taken from the last 32
 * bits, where the /96 prefixes that DNS64 synthesizes put it.
 */
static int
cidr_embedded_v4(const uint8_t *a, uint8_t *v4)
{
	static const uint8_t	zero[12];
	static const uint8_t	siit[12] = { [8] = 0xff, [9] = 0xff };
	static const uint8_t	nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t	nat64_local[6] = { 0, 0x64, 0xff, 0x9b, 0, 1 };

	if (memcmp(a, cidr_mapped_prefix, 12) == 0 ||
	    memcmp(a, siit, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0 ||
	    memcmp(a, nat64_local, 6) == 0) {
		memcpy(v4, a + 12, 4);
		return (1);
	}
	if (memcmp(a, zero, 12) == 0) {
		if (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] <= 1)
			return (0);
		memcpy(v4, a + 12, 4);
		return (1);
	}
	if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(v4, a + 2, 4);
		return (1);
	}
	return (0);
}

/* Whether the rule covers the given address of the given family. */
static int
cidr_match_addr(const struct cidr *rule, int family, const uint8_t *addr)
{
	if (rule->family == family)
		return (cidr_prefix_equal(rule->addr, addr, rule->prefix));
	/*
	 * A rule written inside ::ffff:0:0/96 with a prefix of at least 96
	 * is an IPv4 rule spelled in IPv6: let it cover IPv4 addresses too.
	 */
	if (rule->family == AF_INET6 && family == AF_INET &&
	    rule->prefix >= 96 &&
	    memcmp(rule->addr, cidr_mapped_prefix, 12) == 0)
		return (cidr_prefix_equal(rule->addr + 12, addr,
		    rule->prefix - 96));
	return (0);
}

/*
 * Extract the address, its family and the port from a socket address.
 * Returns 0, or -1 for a family we do not know.
 */
static int
cidr_sockaddr(const struct sockaddr *sa, int *family, uint8_t *addr,
    uint16_t *port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(addr, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		break;
	default:
		return (-1);
	}
	*family = sa->sa_family;
	return (0);
}

/*
 * Match one rule against an address in the forms it normalizes to: for
 * a deny rule every embedded IPv4 address, for an allow rule only the
 * IPv4-mapped one.
 */
static int
cidr_match_normalized(const struct cidr *rule, int family,
    const uint8_t *addr, uint16_t port, enum cidr_sense sense)
{
	uint8_t	v4[4];
	int	embeds;

	if (port < rule->port_lo || port > rule->port_hi)
		return (0);
	if (cidr_match_addr(rule, family, addr))
		return (1);
	if (family != AF_INET6)
		return (0);
	if (sense == CIDR_DENY)
		embeds = cidr_embedded_v4(addr, v4);
	else {
		embeds = memcmp(addr, cidr_mapped_prefix, 12) == 0;
		memcpy(v4, addr + 12, 4);
	}
	return (embeds && cidr_match_addr(rule, AF_INET, v4));
}

/*
 * Whether the rule matches the socket address and its port, the rule
 * used as sense says.  An IPv6 address embedding IPv4 matches IPv6
 * rules as itself and IPv4 rules as the address it embeds (an allow
 * rule: only when mapped).
 */
int
cidr_match(const struct cidr *rule, const struct sockaddr *sa,
    enum cidr_sense sense)
{
	int		family;
	uint8_t		addr[16];
	uint16_t	port;

	if (cidr_sockaddr(sa, &family, addr, &port) != 0)
		return (0);
	return (cidr_match_normalized(rule, family, addr, port, sense));
}

/* Whether any rule matches the given family/address/port. */
static int
cidr_list_match_addr(const struct cidr_list *list, int family,
    const uint8_t *addr, uint16_t port, enum cidr_sense sense)
{
	size_t	i;

	for (i = 0; i < list->count; i++) {
		if (cidr_match_normalized(&list->rules[i], family, addr, port,
		    sense))
			return (1);
	}
	return (0);
}

/*
 * Whether an allow list (CLIENT_ALLOW, STATS_ALLOW, WORKER_ALLOW) admits
 * the socket address; an empty list admits nothing.
 */
int
cidr_list_allows(const struct cidr_list *list, const struct sockaddr *sa)
{
	int		family;
	uint8_t		addr[16];
	uint16_t	port;

	if (cidr_sockaddr(sa, &family, addr, &port) != 0)
		return (0);
	return (cidr_list_match_addr(list, family, addr, port, CIDR_ALLOW));
}

/* Whether the address is 0.0.0.0 or ::, directly or embedded. */
static int
cidr_is_unspecified(int family, const uint8_t *addr)
{
	static const uint8_t	zero[16];
	uint8_t			v4[4];

	if (family == AF_INET)
		return (memcmp(addr, zero, 4) == 0);
	if (memcmp(addr, zero, 16) == 0)
		return (1);
	return (cidr_embedded_v4(addr, v4) && memcmp(v4, zero, 4) == 0);
}

/*
 * Whether a destination may be dialled: not if any deny rule matches,
 * otherwise yes when the allow list is empty or one of its rules
 * matches.  connect() to 0.0.0.0 or :: reaches this host on Linux, so
 * the unspecified address is denied whenever 127.0.0.1 or ::1 would be.
 */
int
cidr_dest_allowed(const struct cidr_list *allow,
    const struct cidr_list *deny, const struct sockaddr *sa)
{
	static const uint8_t	loop4[4] = { 127, 0, 0, 1 };
	static const uint8_t	loop6[16] = { [15] = 1 };
	int			family;
	uint8_t			addr[16];
	uint16_t		port;

	if (cidr_sockaddr(sa, &family, addr, &port) != 0)
		return (0);
	if (cidr_list_match_addr(deny, family, addr, port, CIDR_DENY))
		return (0);
	if (cidr_is_unspecified(family, addr) &&
	    (cidr_list_match_addr(deny, AF_INET, loop4, port, CIDR_DENY) ||
	    cidr_list_match_addr(deny, AF_INET6, loop6, port, CIDR_DENY)))
		return (0);
	if (allow->count == 0)
		return (1);
	return (cidr_list_match_addr(allow, family, addr, port, CIDR_ALLOW));
}

/*
 * Whether the rule lies wholly inside loopback, RFC 1918, link-local,
 * CGNAT, ::1, fc00::/7 or fe80::/10 (or the IPv4-mapped form of one of
 * the IPv4 blocks): the open-proxy check at start-up.
 */
int
cidr_is_private(const struct cidr *rule)
{
	const struct cidr_block	*b;
	const uint8_t		*addr = rule->addr;
	unsigned int		 prefix = rule->prefix;
	int			 family = rule->family;
	size_t			 i;

	if (family == AF_INET6 && prefix >= 96 &&
	    memcmp(addr, cidr_mapped_prefix, 12) == 0) {
		family = AF_INET;
		addr += 12;
		prefix -= 96;
	}
	for (i = 0; i < nitems(cidr_private_blocks); i++) {
		b = &cidr_private_blocks[i];
		if (b->family == family && prefix >= b->prefix &&
		    cidr_prefix_equal(addr, b->addr, b->prefix))
			return (1);
	}
	return (0);
}
