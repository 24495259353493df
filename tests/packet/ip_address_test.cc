// IP address, CIDR and MAC address parsing and formatting.
#include "packet/ip_address.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace tmirror::packet {
namespace {

Uint128 u128(uint64_t high, uint64_t low) {
  return (Uint128{high} << 64) | low;
}

// ---- Addresses --------------------------------------------------------------------------

TEST(IpAddress, ParsesDottedQuadIntoLow32Bits) {
  const auto a = parseIpAddress("172.31.0.238");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->family, IpFamily::V4);
  EXPECT_EQ(a->value, Uint128{0xAC1F00EE});
  EXPECT_EQ(*parseIpAddress("0.0.0.0"), IpAddress::v4(0));
  EXPECT_EQ(*parseIpAddress("255.255.255.255"), IpAddress::v4(0xFFFFFFFF));
}

TEST(IpAddress, ParsesIpv6Forms) {
  EXPECT_EQ(*parseIpAddress("2001:db8::1"), IpAddress::v6(u128(0x20010DB800000000, 1)));
  EXPECT_EQ(*parseIpAddress("::"), IpAddress::v6(0));
  EXPECT_EQ(*parseIpAddress("::1"), IpAddress::v6(1));
  EXPECT_EQ(*parseIpAddress("FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF"), IpAddress::v6(~Uint128{0}));
  EXPECT_EQ(*parseIpAddress("fe80:0:0:0:0:0:0:a"), IpAddress::v6(u128(0xFE80000000000000, 0xA)));
  // An IPv4-mapped address is IPv6, not IPv4.
  const auto mapped = parseIpAddress("::ffff:1.2.3.4");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->family, IpFamily::V6);
  EXPECT_EQ(mapped->value, Uint128{0xFFFF01020304});
}

TEST(IpAddress, FormatsCanonicalText) {
  EXPECT_EQ(formatIpAddress(IpAddress::v4(0xAC1F00EE)), "172.31.0.238");
  EXPECT_EQ(formatIpAddress(IpAddress::v4(0)), "0.0.0.0");
  EXPECT_EQ(formatIpAddress(IpAddress::v6(u128(0x20010DB800000000, 1))), "2001:db8::1");
  EXPECT_EQ(formatIpAddress(IpAddress::v6(0)), "::");
  EXPECT_EQ(formatIpAddress(*parseIpAddress("2001:DB8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  EXPECT_EQ(formatIpAddress(IpAddress{}), "none");
}

TEST(IpAddress, FormatThenParseRoundTrips) {
  for (std::string_view text : {"10.1.2.3", "192.168.255.1", "fe80::1",
                                "2001:db8:85a3::8a2e:370:7334", "::ffff:10.0.0.1"}) {
    const auto a = parseIpAddress(text);
    ASSERT_TRUE(a) << text;
    EXPECT_EQ(formatIpAddress(*a), text);
    EXPECT_EQ(parseIpAddress(formatIpAddress(*a)), a);
  }
}

TEST(IpAddress, RejectsInvalidText) {
  for (std::string_view text :
       {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ", "abc", "1::2::3",
        "12345::", "1.2.3.4/32", "::g", ":", "2001:db8::1%eth0",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999"}) {
    EXPECT_FALSE(parseIpAddress(text)) << "'" << text << "'";
  }
  const std::string too_long(64, '1');  // longer than any address text
  EXPECT_FALSE(parseIpAddress(too_long));
  EXPECT_FALSE(parseIpAddress("1.1.1.1" + std::string(50, ' ')));
}

TEST(IpAddress, RejectsTextWithEmbeddedNul) {
  // inet_pton stops at the first NUL; the parser must not let "10.0.0.1\0junk" through.
  constexpr std::string_view kWithNul("10.0.0.1\0junk", 13);
  constexpr std::string_view kCidrWithNul("10.0.0.0\0junk/8", 15);
  const bool address_accepted = parseIpAddress(kWithNul).has_value();
  const bool cidr_accepted = parseCidr(kCidrWithNul).has_value();
  EXPECT_FALSE(address_accepted);
  EXPECT_FALSE(cidr_accepted);
}

// ---- CIDR blocks ------------------------------------------------------------------------

TEST(Cidr, ParsesIpv4BlockWithRange) {
  CidrParseError error = CidrParseError::Syntax;
  const auto c = parseCidr("10.0.0.0/8", &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(error, CidrParseError::None);
  EXPECT_EQ(c->family(), IpFamily::V4);
  EXPECT_EQ(c->prefix_length, 8);
  EXPECT_EQ(c->first(), Uint128{0x0A000000});
  EXPECT_EQ(c->last(), Uint128{0x0AFFFFFF});
  EXPECT_TRUE(c->contains(*parseIpAddress("10.0.0.0")));
  EXPECT_TRUE(c->contains(*parseIpAddress("10.255.255.255")));
  EXPECT_FALSE(c->contains(*parseIpAddress("11.0.0.0")));
  EXPECT_FALSE(c->contains(*parseIpAddress("9.255.255.255")));
  EXPECT_EQ(formatCidr(*c), "10.0.0.0/8");
}

TEST(Cidr, ParsesIpv6BlockWithRange) {
  const auto c = parseCidr("2001:db8::/32");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->family(), IpFamily::V6);
  EXPECT_EQ(c->first(), u128(0x20010DB800000000, 0));
  EXPECT_EQ(c->last(), u128(0x20010DB8FFFFFFFF, 0xFFFFFFFFFFFFFFFF));
  EXPECT_TRUE(c->contains(*parseIpAddress("2001:db8:ffff::1")));
  EXPECT_FALSE(c->contains(*parseIpAddress("2001:db9::")));
  EXPECT_EQ(formatCidr(*c), "2001:db8::/32");
}

TEST(Cidr, HostBitsSetIsRejected) {
  for (std::string_view text :
       {"10.0.0.1/8", "10.0.0.1/31", "192.168.1.0/23", "2001:db8::1/64", "::1/127", "0.0.0.1/0"}) {
    CidrParseError error = CidrParseError::None;
    EXPECT_FALSE(parseCidr(text, &error)) << text;
    EXPECT_EQ(error, CidrParseError::HostBitsSet) << text;
  }
}

TEST(Cidr, PrefixBeyondAddressWidthIsPrefixOutOfRange) {
  for (std::string_view text :
       {"10.0.0.0/33", "10.0.0.0/64", "10.0.0.0/129", "::/129", "::/200", "10.0.0.0/4294967295"}) {
    CidrParseError error = CidrParseError::None;
    EXPECT_FALSE(parseCidr(text, &error)) << text;
    EXPECT_EQ(error, CidrParseError::PrefixOutOfRange) << text;
  }
}

TEST(Cidr, MalformedTextIsSyntaxError) {
  for (std::string_view text :
       {"", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0/8", "10.0.0.0/8x", "10.0.0.0/x", "10.0.0.0/-1",
        "10.0.0.0/ 8", "10.0.0.0/8/8", "10.0.0.0//8", "10.0.0.0/99999999999999999999"}) {
    CidrParseError error = CidrParseError::None;
    EXPECT_FALSE(parseCidr(text, &error)) << "'" << text << "'";
    EXPECT_EQ(error, CidrParseError::Syntax) << "'" << text << "'";
  }
  EXPECT_FALSE(parseCidr("10.0.0.0"));  // a null error pointer is allowed
}

TEST(Cidr, SlashZeroCoversTheWholeFamily) {
  const auto v4 = parseCidr("0.0.0.0/0");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->first(), Uint128{0});
  EXPECT_EQ(v4->last(), Uint128{0xFFFFFFFF});
  EXPECT_TRUE(v4->contains(IpAddress::v4(0)));
  EXPECT_TRUE(v4->contains(IpAddress::v4(0xFFFFFFFF)));

  const auto v6 = parseCidr("::/0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->last(), ~Uint128{0});
  EXPECT_TRUE(v6->contains(IpAddress::v6(0)));
  EXPECT_TRUE(v6->contains(IpAddress::v6(~Uint128{0})));
}

TEST(Cidr, FullLengthPrefixIsOneAddress) {
  const auto v4 = parseCidr("172.31.0.238/32");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->first(), v4->last());
  EXPECT_TRUE(v4->contains(*parseIpAddress("172.31.0.238")));
  EXPECT_FALSE(v4->contains(*parseIpAddress("172.31.0.239")));
  EXPECT_FALSE(v4->contains(*parseIpAddress("172.31.0.237")));

  const auto v6 = parseCidr("2001:db8::1/128");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->first(), v6->last());
  EXPECT_TRUE(v6->contains(*parseIpAddress("2001:db8::1")));
  EXPECT_FALSE(v6->contains(*parseIpAddress("2001:db8::2")));
  EXPECT_EQ(formatCidr(*v6), "2001:db8::1/128");
}

TEST(Cidr, ContainsIsFalseAcrossFamilies) {
  const auto all_v4 = *parseCidr("0.0.0.0/0");
  const auto all_v6 = *parseCidr("::/0");
  EXPECT_FALSE(all_v4.contains(*parseIpAddress("::")));
  EXPECT_FALSE(all_v4.contains(*parseIpAddress("::ffff:10.0.0.1")));
  EXPECT_FALSE(all_v6.contains(*parseIpAddress("10.0.0.1")));
  EXPECT_FALSE(all_v6.contains(*parseIpAddress("0.0.0.0")));
  // Same numeric value, other family.
  EXPECT_FALSE(parseCidr("10.0.0.1/32")->contains(IpAddress::v6(0x0A000001)));
  EXPECT_FALSE(all_v4.contains(IpAddress{}));
}

// ---- MAC addresses ----------------------------------------------------------------------

TEST(MacAddress, ParsesColonAndDashFormsInAnyCase) {
  const MacAddress expected{{0x02, 0x00, 0x5E, 0x10, 0xAB, 0xFF}};
  EXPECT_EQ(parseMacAddress("02:00:5e:10:ab:ff"), expected);
  EXPECT_EQ(parseMacAddress("02:00:5E:10:AB:FF"), expected);
  EXPECT_EQ(parseMacAddress("02-00-5e-10-ab-ff"), expected);
}

TEST(MacAddress, FormatsLowerCaseWithColons) {
  EXPECT_EQ(formatMacAddress(MacAddress{{0x06, 0xE2, 0x43, 0x9C, 0xFF, 0x5E}}),
            "06:e2:43:9c:ff:5e");
  EXPECT_EQ(formatMacAddress(MacAddress{}), "00:00:00:00:00:00");
  EXPECT_EQ(formatMacAddress(*parseMacAddress("AA-BB-CC-DD-EE-FF")), "aa:bb:cc:dd:ee:ff");
}

TEST(MacAddress, RejectsMalformedText) {
  for (std::string_view text :
       {"", "02:00:5e:10:ab", "02:00:5e:10:ab:f", "02:00:5e:10:ab:fff",
        "02:00:5e:10:ab:ff:", "02.00.5e.10.ab.ff", "0g:00:5e:10:ab:ff", "02005e10abff",
        "02:00:5e:10:ab:+f", " 2:00:5e:10:ab:ff", "02:00:5e:10:ab:-f", "0x:00:5e:10:ab:ff"}) {
    EXPECT_FALSE(parseMacAddress(text)) << "'" << text << "'";
  }
}

TEST(MacAddress, MulticastBitIsTheLowBitOfTheFirstOctet) {
  EXPECT_TRUE(parseMacAddress("01:00:5e:00:00:01")->isMulticast());
  EXPECT_TRUE(parseMacAddress("ff:ff:ff:ff:ff:ff")->isMulticast());
  EXPECT_FALSE(parseMacAddress("02:00:5e:00:00:01")->isMulticast());
}

}  // namespace
}  // namespace tmirror::packet
