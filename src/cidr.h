/*
 * Address rules: CIDR blocks with an optional port or port range, as used
 * by CLIENT_ALLOW, STATS_ALLOW, WORKER_ALLOW, DEST_ALLOW and DEST_DENY.
 * Pure: parsing and matching only, no I/O.
 *
 * Syntax of one rule (lists are space-separated):
 *	ADDR[/LEN]			all ports
 *	ADDR[/LEN]:PORT[-PORT]		IPv4 only
 *	[ADDR[/LEN]]:PORT[-PORT]	IPv6 (or IPv4) in brackets
 * A missing /LEN means a single host (/32 or /128).
 *
 * Matching normalizes the address first.  For a deny rule an IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, SIIT),
 * IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), local-use NAT64
 * (64:ff9b:1::/48, IPv4 in the last 32 bits) or 6to4 (2002::/16) IPv6
 * address also matches as the IPv4 address it embeds, so a deny rule
 * for 127.0.0.0/8 catches ::ffff:127.0.0.1 and 2002:7f00:1::1 too.  For
 * an allow rule only the mapped form counts as its IPv4 address: a
 * client at 2002:a00:1::1 or ::ffff:0:10.0.0.1 is not in 10.0.0.0/8.  A
 * rule written inside ::ffff:0:0/96 with a prefix of 96 or more also
 * matches the plain IPv4 addresses it maps.  An empty list matches
 * nothing; cidr_dest_allowed treats an empty allow list as "everything"
 * and denies 0.0.0.0 and :: whenever 127.0.0.1 or ::1 is denied.
 */
#ifndef CIDR_H
#define CIDR_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdint.h>

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network, masked; v4 in 4 bytes */
	unsigned int	prefix;		/* 0..32 or 0..128 */
	uint16_t	port_lo;	/* 0..65535 inclusive */
	uint16_t	port_hi;
};

struct cidr_list {
	struct cidr	*rules;
	size_t		 count;
};

/* How a rule is used: which embedded IPv4 addresses it sees. */
enum cidr_sense {
	CIDR_ALLOW,	/* only ::ffff:a.b.c.d counts as a.b.c.d */
	CIDR_DENY	/* every embedded form does (see above) */
};

int	cidr_parse(const char *, int allow_port, struct cidr *, char **cause);
int	cidr_list_parse(const char *, int allow_port, struct cidr_list *,
	    char **cause);
void	cidr_list_free(struct cidr_list *);
void	cidr_list_copy(struct cidr_list *, const struct cidr_list *);
int	cidr_match(const struct cidr *, const struct sockaddr *,
	    enum cidr_sense);
int	cidr_list_allows(const struct cidr_list *, const struct sockaddr *);
int	cidr_dest_allowed(const struct cidr_list *allow,
	    const struct cidr_list *deny, const struct sockaddr *);
int	cidr_is_private(const struct cidr *);

#endif
