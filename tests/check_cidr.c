/*
 * Unit tests for the address rules (src/cidr.c): parsing with and without
 * ports, matching IPv4 and IPv6 socket addresses, the IPv4-in-IPv6
 * normalizations, the destination policy and the private-network test.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#include "checklib.h"

/* Fill ss with the address text and port; return it as a sockaddr. */
static struct sockaddr *
sa_fill(struct sockaddr_storage *ss, const char *addr, unsigned int port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return ((struct sockaddr *)ss);
}

/* A socket address for text and port, alive to the end of the block. */
#define SA(addr, port)	sa_fill(&(struct sockaddr_storage){ 0 }, addr, port)

/* Parse a rule that must be good. */
static struct cidr
rule_ok(const char *text, int allow_port)
{
	struct cidr	 rule;
	char		*cause = NULL;

	if (cidr_parse(text, allow_port, &rule, &cause) != 0)
		ck_abort_msg("'%s' rejected: %s", text, cause);
	ck_assert_ptr_null(cause);
	return (rule);
}

/* Parse a rule that must be rejected, with a cause quoting it. */
static void
rule_bad(const char *text, int allow_port)
{
	struct cidr	 rule;
	char		*cause = NULL;

	if (cidr_parse(text, allow_port, &rule, &cause) == 0)
		ck_abort_msg("'%s' accepted", text);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, text));
	free(cause);
}

/* Parse a list that must be good. */
static struct cidr_list
list_ok(const char *text, int allow_port)
{
	struct cidr_list	 list;
	char			*cause = NULL;

	if (cidr_list_parse(text, allow_port, &list, &cause) != 0)
		ck_abort_msg("'%s' rejected: %s", text, cause);
	return (list);
}

START_TEST(parse_ipv4_forms)
{
	struct cidr	r;
	uint8_t		ten[4] = { 10, 0, 0, 0 };
	uint8_t		host[4] = { 192, 0, 2, 7 };

	r = rule_ok("10.0.0.0/8", 1);
	ck_assert_int_eq(r.family, AF_INET);
	ck_assert_mem_eq(r.addr, ten, 4);
	ck_assert_uint_eq(r.prefix, 8);
	ck_assert_uint_eq(r.port_lo, 0);
	ck_assert_uint_eq(r.port_hi, 65535);

	r = rule_ok("10.0.0.0/8:25", 1);
	ck_assert_uint_eq(r.prefix, 8);
	ck_assert_uint_eq(r.port_lo, 25);
	ck_assert_uint_eq(r.port_hi, 25);

	r = rule_ok("10.0.0.0/8:1-1023", 1);
	ck_assert_uint_eq(r.port_lo, 1);
	ck_assert_uint_eq(r.port_hi, 1023);

	r = rule_ok("192.0.2.7", 0);
	ck_assert_mem_eq(r.addr, host, 4);
	ck_assert_uint_eq(r.prefix, 32);

	r = rule_ok("192.0.2.7:65535", 1);
	ck_assert_uint_eq(r.port_lo, 65535);

	r = rule_ok("0.0.0.0/0", 0);
	ck_assert_uint_eq(r.prefix, 0);

	r = rule_ok("[10.0.0.0/8]:25", 1);
	ck_assert_int_eq(r.family, AF_INET);
	ck_assert_uint_eq(r.port_lo, 25);
}
END_TEST

START_TEST(parse_ipv6_forms)
{
	struct cidr	r;
	uint8_t		one[16] = { [15] = 1 };
	uint8_t		doc[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	r = rule_ok("::1/128", 0);
	ck_assert_int_eq(r.family, AF_INET6);
	ck_assert_mem_eq(r.addr, one, 16);
	ck_assert_uint_eq(r.prefix, 128);
	ck_assert_uint_eq(r.port_hi, 65535);

	r = rule_ok("::1", 0);
	ck_assert_uint_eq(r.prefix, 128);

	r = rule_ok("[::1/128]:22", 1);
	ck_assert_mem_eq(r.addr, one, 16);
	ck_assert_uint_eq(r.port_lo, 22);
	ck_assert_uint_eq(r.port_hi, 22);

	r = rule_ok("[::1]:22", 1);
	ck_assert_uint_eq(r.prefix, 128);
	ck_assert_uint_eq(r.port_lo, 22);

	r = rule_ok("[2001:db8::/32]:80-443", 1);
	ck_assert_mem_eq(r.addr, doc, 16);
	ck_assert_uint_eq(r.prefix, 32);
	ck_assert_uint_eq(r.port_lo, 80);
	ck_assert_uint_eq(r.port_hi, 443);

	r = rule_ok("[fe80::/10]", 0);
	ck_assert_uint_eq(r.prefix, 10);

	r = rule_ok("::/0", 0);
	ck_assert_uint_eq(r.prefix, 0);
}
END_TEST

START_TEST(parse_masks_host_bits)
{
	struct cidr	r;
	uint8_t		v4[4] = { 10, 0, 0, 0 };
	uint8_t		v4b[4] = { 172, 16, 0, 0 };
	uint8_t		v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x80 };

	r = rule_ok("10.1.2.3/8", 0);
	ck_assert_mem_eq(r.addr, v4, 4);
	r = rule_ok("172.31.255.255/12", 0);
	ck_assert_mem_eq(r.addr, v4b, 4);
	r = rule_ok("2001:db8:ffff::1/33", 0);
	ck_assert_mem_eq(r.addr, v6, 16);
	r = rule_ok("1.2.3.4/0", 0);
	ck_assert_uint_eq(r.addr[0] | r.addr[1] | r.addr[2] | r.addr[3], 0);
}
END_TEST

START_TEST(parse_rejects_bad_prefixes)
{
	rule_bad("10.0.0.0/33", 0);
	rule_bad("::/129", 0);
	rule_bad("10.0.0.0/", 0);
	rule_bad("10.0.0.0/-1", 0);
	rule_bad("10.0.0.0/+8", 0);
	rule_bad("10.0.0.0/08", 0);
	rule_bad("10.0.0.0/8/8", 0);
	rule_bad("10.0.0.0/a", 0);
	rule_bad("10.0.0.0/ 8", 0);
	rule_bad("[::1/1000]:22", 1);
}
END_TEST

START_TEST(parse_rejects_noncanonical_addresses)
{
	rule_bad("", 0);
	rule_bad("10", 0);
	rule_bad("10/8", 0);
	rule_bad("10.0.0", 0);
	rule_bad("10.0.0.0.0", 0);
	rule_bad("010.0.0.1", 0);
	rule_bad("0x7f.0.0.1", 0);
	rule_bad("256.0.0.1", 0);
	rule_bad("127.1", 0);
	rule_bad("2130706433", 0);
	rule_bad(" 10.0.0.1", 0);
	rule_bad("10.0.0.1 ", 0);
	rule_bad("example.com", 0);
	rule_bad(":::1", 0);
	rule_bad("1::2::3", 0);
	rule_bad("fe80::1%eth0", 0);
	rule_bad("[::1", 0);
	rule_bad("[::1]x", 0);
	rule_bad("[::1]:", 1);
	rule_bad("[]:22", 1);
	rule_bad("::1]:22", 1);
}
END_TEST

START_TEST(parse_rejects_bad_ports)
{
	rule_bad("10.0.0.0/8:65536", 1);
	rule_bad("10.0.0.0/8:99999", 1);
	rule_bad("10.0.0.0/8:000001", 1);
	rule_bad("10.0.0.0/8:", 1);
	rule_bad("10.0.0.0/8:-5", 1);
	rule_bad("10.0.0.0/8:5-", 1);
	rule_bad("10.0.0.0/8:1-2-3", 1);
	rule_bad("10.0.0.0/8:443-80", 1);
	rule_bad("10.0.0.0/8:http", 1);
	rule_bad("10.0.0.0/8:+1", 1);
	rule_bad("[::1]:65536", 1);
	rule_bad("[2001:db8::/32]:443-80", 1);
	/* Unbracketed IPv6 with a port is ambiguous. */
	rule_bad("::1/128:22", 1);
}
END_TEST

START_TEST(parse_rejects_ports_where_not_allowed)
{
	rule_bad("10.0.0.0/8:25", 0);
	rule_bad("[::1]:22", 0);
	rule_bad("[2001:db8::/32]:80-443", 0);
	rule_ok("[::1]", 0);
}
END_TEST

START_TEST(list_parse_and_copy)
{
	struct cidr_list	 l, c;
	char			*cause = NULL;

	l = list_ok("", 1);
	ck_assert_uint_eq(l.count, 0);
	ck_assert_ptr_null(l.rules);
	cidr_list_free(&l);

	l = list_ok("  \t ", 1);
	ck_assert_uint_eq(l.count, 0);

	l = list_ok(" 10.0.0.0/8\t[::1]:22  192.0.2.7:80-81 ", 1);
	ck_assert_uint_eq(l.count, 3);
	ck_assert_uint_eq(l.rules[1].port_lo, 22);
	ck_assert_uint_eq(l.rules[2].port_hi, 81);

	cidr_list_copy(&c, &l);
	ck_assert_uint_eq(c.count, 3);
	ck_assert_ptr_ne(c.rules, l.rules);
	ck_assert_mem_eq(c.rules, l.rules, 3 * sizeof(*l.rules));
	cidr_list_free(&l);
	ck_assert_uint_eq(l.count, 0);
	ck_assert_ptr_null(l.rules);
	/* The copy outlives the original (ASan would catch a shared array). */
	ck_assert_uint_eq(c.rules[2].port_lo, 80);
	cidr_list_free(&c);

	l.count = 0;
	l.rules = NULL;
	cidr_list_copy(&c, &l);
	ck_assert_uint_eq(c.count, 0);
	ck_assert_ptr_null(c.rules);

	ck_assert_int_eq(cidr_list_parse("10.0.0.0/8 bogus ::1", 0, &l,
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "'bogus'"));
	ck_assert_uint_eq(l.count, 0);
	ck_assert_ptr_null(l.rules);
	free(cause);

	ck_assert_int_eq(cidr_list_parse("10.0.0.0/8:22", 0, &l, &cause), -1);
	free(cause);
}
END_TEST

START_TEST(match_ipv4)
{
	struct cidr	r;

	r = rule_ok("10.0.0.0/8", 1);
	ck_assert(cidr_match(&r, SA("10.0.0.0", 1), CIDR_DENY));
	ck_assert(cidr_match(&r, SA("10.255.255.255", 65535), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("11.0.0.0", 1), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("9.255.255.255", 1), CIDR_DENY));

	r = rule_ok("172.16.0.0/12", 1);
	ck_assert(cidr_match(&r, SA("172.31.1.1", 1), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("172.32.0.0", 1), CIDR_DENY));

	r = rule_ok("192.0.2.7", 1);
	ck_assert(cidr_match(&r, SA("192.0.2.7", 80), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("192.0.2.8", 80), CIDR_DENY));

	r = rule_ok("0.0.0.0/0", 1);
	ck_assert(cidr_match(&r, SA("203.0.113.9", 80), CIDR_DENY));
	/* An IPv4 rule does not match a plain IPv6 address. */
	ck_assert(!cidr_match(&r, SA("2001:db8::1", 80), CIDR_DENY));
}
END_TEST

START_TEST(match_ipv6)
{
	struct cidr	r;

	r = rule_ok("2001:db8::/32", 1);
	ck_assert(cidr_match(&r, SA("2001:db8::1", 1), CIDR_DENY));
	ck_assert(cidr_match(&r, SA("2001:db8:ffff:ffff::", 1), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("2001:db9::1", 1), CIDR_DENY));

	r = rule_ok("fe80::/10", 1);
	ck_assert(cidr_match(&r, SA("febf::1", 1), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("fec0::1", 1), CIDR_DENY));

	r = rule_ok("::1", 1);
	ck_assert(cidr_match(&r, SA("::1", 5), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("::2", 5), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("127.0.0.1", 5), CIDR_DENY));

	r = rule_ok("::/0", 1);
	ck_assert(cidr_match(&r, SA("2001:db8::1", 1), CIDR_DENY));
	/* An IPv6 rule outside ::ffff:0:0/96 does not match IPv4. */
	ck_assert(!cidr_match(&r, SA("192.0.2.1", 1), CIDR_DENY));
}
END_TEST

START_TEST(match_ports_and_ranges)
{
	struct cidr	r;

	r = rule_ok("10.0.0.0/8:25", 1);
	ck_assert(cidr_match(&r, SA("10.1.1.1", 25), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("10.1.1.1", 24), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("10.1.1.1", 26), CIDR_DENY));

	r = rule_ok("10.0.0.0/8:1-1023", 1);
	ck_assert(cidr_match(&r, SA("10.1.1.1", 1), CIDR_DENY));
	ck_assert(cidr_match(&r, SA("10.1.1.1", 1023), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("10.1.1.1", 1024), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("10.1.1.1", 0), CIDR_DENY));

	r = rule_ok("[2001:db8::/32]:80-443", 1);
	ck_assert(cidr_match(&r, SA("2001:db8::5", 80), CIDR_DENY));
	ck_assert(cidr_match(&r, SA("2001:db8::5", 443), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("2001:db8::5", 444), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("2001:db9::5", 443), CIDR_DENY));

	r = rule_ok("[::1]:22", 1);
	ck_assert(cidr_match(&r, SA("::1", 22), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("::1", 23), CIDR_DENY));

	/* Embedded IPv4 keeps the port test. */
	r = rule_ok("127.0.0.0/8:22", 1);
	ck_assert(cidr_match(&r, SA("::ffff:127.0.0.1", 22), CIDR_DENY));
	ck_assert(!cidr_match(&r, SA("::ffff:127.0.0.1", 23), CIDR_DENY));
}
END_TEST

START_TEST(match_embedded_ipv4)
{
	struct cidr	lo4, lo6, doc;

	lo4 = rule_ok("127.0.0.0/8", 1);
	/* Mapped, SIIT, compatible, NAT64, local-use NAT64, 6to4. */
	ck_assert(cidr_match(&lo4, SA("::ffff:127.0.0.1", 80), CIDR_DENY));
	ck_assert(cidr_match(&lo4, SA("::ffff:0:127.0.0.1", 80), CIDR_DENY));
	ck_assert(cidr_match(&lo4, SA("::127.0.0.1", 80), CIDR_DENY));
	ck_assert(cidr_match(&lo4, SA("64:ff9b::7f00:1", 80), CIDR_DENY));
	ck_assert(cidr_match(&lo4, SA("64:ff9b:1::7f00:1", 80), CIDR_DENY));
	/* A local-use prefix may be any /96 inside 64:ff9b:1::/48. */
	ck_assert(cidr_match(&lo4, SA("64:ff9b:1:ffff:ffff:ffff:7f00:1", 80),
	    CIDR_DENY));
	ck_assert(cidr_match(&lo4, SA("2002:7f00:1::1", 80), CIDR_DENY));
	ck_assert(cidr_match(&lo4, SA("2002:7f00:1:ffff:ffff::", 80),
	    CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("::ffff:128.0.0.1", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("2002:8000:1::1", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("::ffff:0:128.0.0.1", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("64:ff9b:1::8000:1", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("2001:db8::7f00:1", 80), CIDR_DENY));
	/* Neighbours of the embedding prefixes embed nothing. */
	ck_assert(!cidr_match(&lo4, SA("::ffff:1:7f00:1", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("::fffe:0:7f00:1", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("64:ff9b:2::7f00:1", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("64:ff9b:0:1::7f00:1", 80),
	    CIDR_DENY));
	/* :: and ::1 are not IPv4-compatible addresses. */
	ck_assert(!cidr_match(&lo4, SA("::1", 80), CIDR_DENY));
	lo4 = rule_ok("0.0.0.0/8", 1);
	ck_assert(!cidr_match(&lo4, SA("::", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo4, SA("::1", 80), CIDR_DENY));
	ck_assert(cidr_match(&lo4, SA("::2", 80), CIDR_DENY));

	/* The embedding address still matches IPv6 rules as itself. */
	doc = rule_ok("2002::/16", 1);
	ck_assert(cidr_match(&doc, SA("2002:7f00:1::1", 80), CIDR_DENY));
	lo6 = rule_ok("::ffff:0:0/96", 1);
	ck_assert(cidr_match(&lo6, SA("::ffff:127.0.0.1", 80), CIDR_DENY));
	/* ...and a rule spelled as mapped IPv4 covers plain IPv4 too. */
	ck_assert(cidr_match(&lo6, SA("192.0.2.1", 80), CIDR_DENY));
	lo6 = rule_ok("::ffff:127.0.0.0/104", 1);
	ck_assert(cidr_match(&lo6, SA("127.9.9.9", 80), CIDR_DENY));
	ck_assert(!cidr_match(&lo6, SA("128.0.0.1", 80), CIDR_DENY));
}
END_TEST

START_TEST(allow_sees_only_mapped_ipv4)
{
	struct cidr	ten, six;
	const char	*embedded[] = {
		"::10.1.2.3", "64:ff9b::a01:203", "2002:a01:203::1",
		"2002:a00:1::1", "::ffff:0:10.1.2.3", "64:ff9b:1::a01:203",
		"64:ff9b:1:ab:cd:ef:a01:203",
	};
	size_t		 i;

	ten = rule_ok("10.0.0.0/8", 1);
	ck_assert(cidr_match(&ten, SA("10.1.2.3", 80), CIDR_ALLOW));
	ck_assert(cidr_match(&ten, SA("::ffff:10.1.2.3", 80), CIDR_ALLOW));
	ck_assert(!cidr_match(&ten, SA("::ffff:11.1.2.3", 80), CIDR_ALLOW));
	for (i = 0; i < sizeof(embedded) / sizeof(embedded[0]); i++) {
		/* Anyone may send from these: not a 10/8 client. */
		if (cidr_match(&ten, SA(embedded[i], 80), CIDR_ALLOW))
			ck_abort_msg("%s allowed by 10.0.0.0/8", embedded[i]);
		/* A deny rule for 10/8 still catches every spelling. */
		if (!cidr_match(&ten, SA(embedded[i], 80), CIDR_DENY))
			ck_abort_msg("%s not denied by 10.0.0.0/8",
			    embedded[i]);
	}
	/* An IPv6 allow rule still takes such an address as itself. */
	six = rule_ok("2002::/16", 1);
	ck_assert(cidr_match(&six, SA("2002:a00:1::1", 80), CIDR_ALLOW));
	/* As does a rule spelled as mapped IPv4, for plain IPv4. */
	six = rule_ok("::ffff:10.0.0.0/104", 1);
	ck_assert(cidr_match(&six, SA("10.9.9.9", 80), CIDR_ALLOW));
	ck_assert(cidr_match(&six, SA("::ffff:10.9.9.9", 80), CIDR_ALLOW));
	ck_assert(!cidr_match(&six, SA("2002:a09:909::1", 80), CIDR_ALLOW));
}
END_TEST

START_TEST(client_allow_is_not_bypassed_by_6to4)
{
	struct cidr_list	l;

	l = list_ok("10.0.0.0/8", 0);
	ck_assert(cidr_list_allows(&l, SA("10.0.0.1", 1)));
	ck_assert(cidr_list_allows(&l, SA("::ffff:10.0.0.1", 1)));
	ck_assert(!cidr_list_allows(&l, SA("2002:a00:1::1", 1)));
	ck_assert(!cidr_list_allows(&l, SA("64:ff9b::a00:1", 1)));
	ck_assert(!cidr_list_allows(&l, SA("::10.0.0.1", 1)));
	ck_assert(!cidr_list_allows(&l, SA("::ffff:0:10.0.0.1", 1)));
	ck_assert(!cidr_list_allows(&l, SA("64:ff9b:1::a00:1", 1)));
	cidr_list_free(&l);
}
END_TEST

START_TEST(dest_allow_sees_only_mapped_ipv4)
{
	struct cidr_list	allow, deny;

	allow = list_ok("10.0.0.0/8", 1);
	memset(&deny, 0, sizeof(deny));
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("10.1.1.1", 80)));
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("::ffff:10.1.1.1", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("2002:a01:101::1", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("64:ff9b::a01:101",
	    80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("::10.1.1.1", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("::ffff:0:10.1.1.1",
	    80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("64:ff9b:1::a01:101",
	    80)));
	cidr_list_free(&allow);

	/* Deny still sees through all of them, with or without an allow. */
	deny = list_ok("10.0.0.0/8", 1);
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("2002:a01:101::1", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("64:ff9b::a01:101",
	    80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("::10.1.1.1", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("::ffff:0:10.1.1.1",
	    80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("64:ff9b:1::a01:101",
	    80)));
	cidr_list_free(&deny);
}
END_TEST

START_TEST(list_match)
{
	struct cidr_list	l;

	l = list_ok("10.0.0.0/8 [::1]:22 192.0.2.0/24:443", 1);
	ck_assert(cidr_list_allows(&l, SA("10.2.3.4", 9)));
	ck_assert(cidr_list_allows(&l, SA("::1", 22)));
	ck_assert(!cidr_list_allows(&l, SA("::1", 23)));
	ck_assert(cidr_list_allows(&l, SA("::ffff:192.0.2.200", 443)));
	ck_assert(!cidr_list_allows(&l, SA("192.0.2.200", 80)));
	cidr_list_free(&l);

	/* An empty list matches nothing. */
	ck_assert(!cidr_list_allows(&l, SA("10.2.3.4", 9)));
}
END_TEST

START_TEST(dest_deny_loopback_in_every_spelling)
{
	struct cidr_list	allow, deny;
	const char		*denied[] = {
		"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1",
		"::127.0.0.1", "2002:7f00:1::1", "64:ff9b::7f00:1",
		"0.0.0.0", "::", "::ffff:0.0.0.0", "64:ff9b::", "2002::1",
		"::ffff:0:127.0.0.1", "::ffff:0:0.0.0.0", "64:ff9b:1::7f00:1",
		"64:ff9b:1:1234::7f00:1", "64:ff9b:1::",
	};
	const char		*allowed[] = {
		"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "::2",
		"128.0.0.1", "2002:c000:201::1", "::ffff:0:192.0.2.1",
		"64:ff9b:1::c000:201", "64:ff9b:2::7f00:1",
	};
	size_t			 i;

	memset(&allow, 0, sizeof(allow));
	deny = list_ok("127.0.0.0/8 ::1", 1);
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		if (cidr_dest_allowed(&allow, &deny, SA(denied[i], 80)))
			ck_abort_msg("%s allowed", denied[i]);
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (!cidr_dest_allowed(&allow, &deny, SA(allowed[i], 80)))
			ck_abort_msg("%s denied", allowed[i]);
	}
	cidr_list_free(&deny);

	/* Either half of loopback alone is enough to deny the unspecified. */
	deny = list_ok("127.0.0.0/8", 1);
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("::", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("0.0.0.0", 80)));
	cidr_list_free(&deny);
	deny = list_ok("::1", 1);
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("0.0.0.0", 80)));
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("127.0.0.1", 80)));
	cidr_list_free(&deny);

	/* A port-limited loopback deny limits the unspecified the same way. */
	deny = list_ok("127.0.0.0/8:22", 1);
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("0.0.0.0", 22)));
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("0.0.0.0", 80)));
	cidr_list_free(&deny);

	/* With no deny list, the unspecified address is not special. */
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("0.0.0.0", 80)));
}
END_TEST

START_TEST(dest_allow_and_deny)
{
	struct cidr_list	allow, deny;

	allow = list_ok("10.0.0.0/8:443 [2001:db8::/32]:80-443", 1);
	deny = list_ok("10.9.0.0/16", 1);
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("10.1.1.1", 443)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("10.1.1.1", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("10.9.1.1", 443)));
	ck_assert(!cidr_dest_allowed(&allow, &deny,
	    SA("::ffff:10.9.1.1", 443)));
	ck_assert(cidr_dest_allowed(&allow, &deny,
	    SA("::ffff:10.1.1.1", 443)));
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("2001:db8::1", 80)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("2001:db8::1", 22)));
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("192.0.2.1", 443)));
	cidr_list_free(&allow);
	cidr_list_free(&deny);

	/* Empty allow and deny: everything goes. */
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("192.0.2.1", 443)));
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("::1", 443)));

	/* Deny wins over allow. */
	allow = list_ok("0.0.0.0/0 ::/0", 1);
	deny = list_ok("192.0.2.0/24:25", 1);
	ck_assert(!cidr_dest_allowed(&allow, &deny, SA("192.0.2.9", 25)));
	ck_assert(cidr_dest_allowed(&allow, &deny, SA("192.0.2.9", 26)));
	cidr_list_free(&allow);
	cidr_list_free(&deny);
}
END_TEST

START_TEST(private_rules)
{
	const char	*priv[] = {
		"10.0.0.0/8", "10.1.2.0/24", "10.9.9.9", "127.0.0.0/8",
		"127.0.0.1", "172.16.0.0/12", "172.31.0.0/16",
		"192.168.0.0/16", "192.168.1.1", "169.254.0.0/16",
		"100.64.0.0/10", "100.127.255.255", "::1", "::1/128",
		"fc00::/7", "fd12:3456::/32", "fe80::/10", "febf::1",
		"::ffff:10.0.0.0/104", "::ffff:127.0.0.1",
	};
	const char	*pub[] = {
		"0.0.0.0/0", "8.0.0.0/7", "10.0.0.0/7", "11.0.0.0/8",
		"172.16.0.0/11", "172.32.0.0/16", "192.168.0.0/15",
		"100.64.0.0/9", "100.128.0.0/10", "128.0.0.0/1",
		"169.254.0.0/15", "::/0", "::/127", "::2", "fc00::/6",
		"fe80::/9", "fec0::/10", "2001:db8::/32", "::ffff:0:0/96",
		"::ffff:11.0.0.0/104", "2002:a00::/24", "64:ff9b::a00:1",
	};
	struct cidr	 r;
	size_t		 i;

	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		r = rule_ok(priv[i], 0);
		if (!cidr_is_private(&r))
			ck_abort_msg("%s not private", priv[i]);
	}
	for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		r = rule_ok(pub[i], 0);
		if (cidr_is_private(&r))
			ck_abort_msg("%s private", pub[i]);
	}
}
END_TEST

START_TEST(match_unknown_family)
{
	struct sockaddr_storage	ss;
	struct cidr_list	allow, deny;
	struct cidr		r;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	r = rule_ok("0.0.0.0/0", 0);
	ck_assert(!cidr_match(&r, (struct sockaddr *)&ss, CIDR_DENY));
	memset(&allow, 0, sizeof(allow));
	memset(&deny, 0, sizeof(deny));
	ck_assert(!cidr_dest_allowed(&allow, &deny, (struct sockaddr *)&ss));
}
END_TEST

static Suite *
cidr_suite(void)
{
	Suite	*s = suite_create("cidr");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_ipv4_forms);
	tcase_add_test(tc, parse_ipv6_forms);
	tcase_add_test(tc, parse_masks_host_bits);
	tcase_add_test(tc, parse_rejects_bad_prefixes);
	tcase_add_test(tc, parse_rejects_noncanonical_addresses);
	tcase_add_test(tc, parse_rejects_bad_ports);
	tcase_add_test(tc, parse_rejects_ports_where_not_allowed);
	tcase_add_test(tc, list_parse_and_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, match_ipv4);
	tcase_add_test(tc, match_ipv6);
	tcase_add_test(tc, match_ports_and_ranges);
	tcase_add_test(tc, match_embedded_ipv4);
	tcase_add_test(tc, list_match);
	tcase_add_test(tc, allow_sees_only_mapped_ipv4);
	tcase_add_test(tc, client_allow_is_not_bypassed_by_6to4);
	tcase_add_test(tc, match_unknown_family);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, dest_deny_loopback_in_every_spelling);
	tcase_add_test(tc, dest_allow_and_deny);
	tcase_add_test(tc, dest_allow_sees_only_mapped_ipv4);
	tcase_add_test(tc, private_rules);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (checklib_run(cidr_suite()));
}
