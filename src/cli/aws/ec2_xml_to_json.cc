#include "cli/aws/ec2_xml_to_json.h"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

namespace tmirror::cli {

namespace {

// --- The output shapes ---------------------------------------------------------------------
// Generated from botocore's ec2 2016-11-15 service-2.json (botocore 1.43.11): member name,
// XML element (locationName) and shape, in model order, which is the order aws prints.

constexpr Member kTagMembers[] = {
    {"Key", "key", &kString},
    {"Value", "value", &kString},
};
constexpr Shape kTag = structureShape(kTagMembers);
constexpr Shape kTagList = listShape(&kTag);
constexpr Member kTrafficMirrorTargetMembers[] = {
    {"TrafficMirrorTargetId", "trafficMirrorTargetId", &kString},
    {"NetworkInterfaceId", "networkInterfaceId", &kString},
    {"NetworkLoadBalancerArn", "networkLoadBalancerArn", &kString},
    {"Type", "type", &kString},
    {"Description", "description", &kString},
    {"OwnerId", "ownerId", &kString},
    {"Tags", "tagSet", &kTagList},
    {"GatewayLoadBalancerEndpointId", "gatewayLoadBalancerEndpointId", &kString},
};
constexpr Shape kTrafficMirrorTarget = structureShape(kTrafficMirrorTargetMembers);
constexpr Member kCreateTrafficMirrorTargetResultMembers[] = {
    {"TrafficMirrorTarget", "trafficMirrorTarget", &kTrafficMirrorTarget},
    {"ClientToken", "clientToken", &kString},
};
constexpr Shape kCreateTrafficMirrorTargetResult =
    structureShape(kCreateTrafficMirrorTargetResultMembers);
constexpr Shape kTrafficMirrorTargetSet = listShape(&kTrafficMirrorTarget);
constexpr Member kDescribeTrafficMirrorTargetsResultMembers[] = {
    {"TrafficMirrorTargets", "trafficMirrorTargetSet", &kTrafficMirrorTargetSet},
    {"NextToken", "nextToken", &kString},
};
constexpr Shape kDescribeTrafficMirrorTargetsResult =
    structureShape(kDescribeTrafficMirrorTargetsResultMembers);
constexpr Member kDeleteTrafficMirrorTargetResultMembers[] = {
    {"TrafficMirrorTargetId", "trafficMirrorTargetId", &kString},
};
constexpr Shape kDeleteTrafficMirrorTargetResult =
    structureShape(kDeleteTrafficMirrorTargetResultMembers);
constexpr Member kTrafficMirrorPortRangeMembers[] = {
    {"FromPort", "fromPort", &kInteger},
    {"ToPort", "toPort", &kInteger},
};
constexpr Shape kTrafficMirrorPortRange = structureShape(kTrafficMirrorPortRangeMembers);
constexpr Member kTrafficMirrorFilterRuleMembers[] = {
    {"TrafficMirrorFilterRuleId", "trafficMirrorFilterRuleId", &kString},
    {"TrafficMirrorFilterId", "trafficMirrorFilterId", &kString},
    {"TrafficDirection", "trafficDirection", &kString},
    {"RuleNumber", "ruleNumber", &kInteger},
    {"RuleAction", "ruleAction", &kString},
    {"Protocol", "protocol", &kInteger},
    {"DestinationPortRange", "destinationPortRange", &kTrafficMirrorPortRange},
    {"SourcePortRange", "sourcePortRange", &kTrafficMirrorPortRange},
    {"DestinationCidrBlock", "destinationCidrBlock", &kString},
    {"SourceCidrBlock", "sourceCidrBlock", &kString},
    {"Description", "description", &kString},
    {"Tags", "tagSet", &kTagList},
};
constexpr Shape kTrafficMirrorFilterRule = structureShape(kTrafficMirrorFilterRuleMembers);
constexpr Shape kTrafficMirrorFilterRuleList = listShape(&kTrafficMirrorFilterRule);
constexpr Member kTrafficMirrorFilterMembers[] = {
    {"TrafficMirrorFilterId", "trafficMirrorFilterId", &kString},
    {"IngressFilterRules", "ingressFilterRuleSet", &kTrafficMirrorFilterRuleList},
    {"EgressFilterRules", "egressFilterRuleSet", &kTrafficMirrorFilterRuleList},
    {"NetworkServices", "networkServiceSet", &kStringList},
    {"Description", "description", &kString},
    {"Tags", "tagSet", &kTagList},
};
constexpr Shape kTrafficMirrorFilter = structureShape(kTrafficMirrorFilterMembers);
constexpr Member kCreateTrafficMirrorFilterResultMembers[] = {
    {"TrafficMirrorFilter", "trafficMirrorFilter", &kTrafficMirrorFilter},
    {"ClientToken", "clientToken", &kString},
};
constexpr Shape kCreateTrafficMirrorFilterResult =
    structureShape(kCreateTrafficMirrorFilterResultMembers);
constexpr Shape kTrafficMirrorFilterSet = listShape(&kTrafficMirrorFilter);
constexpr Member kDescribeTrafficMirrorFiltersResultMembers[] = {
    {"TrafficMirrorFilters", "trafficMirrorFilterSet", &kTrafficMirrorFilterSet},
    {"NextToken", "nextToken", &kString},
};
constexpr Shape kDescribeTrafficMirrorFiltersResult =
    structureShape(kDescribeTrafficMirrorFiltersResultMembers);
constexpr Member kDeleteTrafficMirrorFilterResultMembers[] = {
    {"TrafficMirrorFilterId", "trafficMirrorFilterId", &kString},
};
constexpr Shape kDeleteTrafficMirrorFilterResult =
    structureShape(kDeleteTrafficMirrorFilterResultMembers);
constexpr Member kModifyTrafficMirrorFilterNetworkServicesResultMembers[] = {
    {"TrafficMirrorFilter", "trafficMirrorFilter", &kTrafficMirrorFilter},
};
constexpr Shape kModifyTrafficMirrorFilterNetworkServicesResult =
    structureShape(kModifyTrafficMirrorFilterNetworkServicesResultMembers);
constexpr Member kCreateTrafficMirrorFilterRuleResultMembers[] = {
    {"TrafficMirrorFilterRule", "trafficMirrorFilterRule", &kTrafficMirrorFilterRule},
    {"ClientToken", "clientToken", &kString},
};
constexpr Shape kCreateTrafficMirrorFilterRuleResult =
    structureShape(kCreateTrafficMirrorFilterRuleResultMembers);
constexpr Shape kTrafficMirrorFilterRuleSet = listShape(&kTrafficMirrorFilterRule);
constexpr Member kDescribeTrafficMirrorFilterRulesResultMembers[] = {
    {"TrafficMirrorFilterRules", "trafficMirrorFilterRuleSet", &kTrafficMirrorFilterRuleSet},
    {"NextToken", "nextToken", &kString},
};
constexpr Shape kDescribeTrafficMirrorFilterRulesResult =
    structureShape(kDescribeTrafficMirrorFilterRulesResultMembers);
constexpr Member kModifyTrafficMirrorFilterRuleResultMembers[] = {
    {"TrafficMirrorFilterRule", "trafficMirrorFilterRule", &kTrafficMirrorFilterRule},
};
constexpr Shape kModifyTrafficMirrorFilterRuleResult =
    structureShape(kModifyTrafficMirrorFilterRuleResultMembers);
constexpr Member kDeleteTrafficMirrorFilterRuleResultMembers[] = {
    {"TrafficMirrorFilterRuleId", "trafficMirrorFilterRuleId", &kString},
};
constexpr Shape kDeleteTrafficMirrorFilterRuleResult =
    structureShape(kDeleteTrafficMirrorFilterRuleResultMembers);
constexpr Member kTrafficMirrorSessionMembers[] = {
    {"TrafficMirrorSessionId", "trafficMirrorSessionId", &kString},
    {"TrafficMirrorTargetId", "trafficMirrorTargetId", &kString},
    {"TrafficMirrorFilterId", "trafficMirrorFilterId", &kString},
    {"NetworkInterfaceId", "networkInterfaceId", &kString},
    {"OwnerId", "ownerId", &kString},
    {"PacketLength", "packetLength", &kInteger},
    {"SessionNumber", "sessionNumber", &kInteger},
    {"VirtualNetworkId", "virtualNetworkId", &kInteger},
    {"Description", "description", &kString},
    {"Tags", "tagSet", &kTagList},
};
constexpr Shape kTrafficMirrorSession = structureShape(kTrafficMirrorSessionMembers);
constexpr Member kCreateTrafficMirrorSessionResultMembers[] = {
    {"TrafficMirrorSession", "trafficMirrorSession", &kTrafficMirrorSession},
    {"ClientToken", "clientToken", &kString},
};
constexpr Shape kCreateTrafficMirrorSessionResult =
    structureShape(kCreateTrafficMirrorSessionResultMembers);
constexpr Shape kTrafficMirrorSessionSet = listShape(&kTrafficMirrorSession);
constexpr Member kDescribeTrafficMirrorSessionsResultMembers[] = {
    {"TrafficMirrorSessions", "trafficMirrorSessionSet", &kTrafficMirrorSessionSet},
    {"NextToken", "nextToken", &kString},
};
constexpr Shape kDescribeTrafficMirrorSessionsResult =
    structureShape(kDescribeTrafficMirrorSessionsResultMembers);
constexpr Member kModifyTrafficMirrorSessionResultMembers[] = {
    {"TrafficMirrorSession", "trafficMirrorSession", &kTrafficMirrorSession},
};
constexpr Shape kModifyTrafficMirrorSessionResult =
    structureShape(kModifyTrafficMirrorSessionResultMembers);
constexpr Member kDeleteTrafficMirrorSessionResultMembers[] = {
    {"TrafficMirrorSessionId", "trafficMirrorSessionId", &kString},
};
constexpr Shape kDeleteTrafficMirrorSessionResult =
    structureShape(kDeleteTrafficMirrorSessionResultMembers);
constexpr Member kTagDescriptionMembers[] = {
    {"Key", "key", &kString},
    {"ResourceId", "resourceId", &kString},
    {"ResourceType", "resourceType", &kString},
    {"Value", "value", &kString},
};
constexpr Shape kTagDescription = structureShape(kTagDescriptionMembers);
constexpr Shape kTagDescriptionList = listShape(&kTagDescription);
constexpr Member kDescribeTagsResultMembers[] = {
    {"NextToken", "nextToken", &kString},
    {"Tags", "tagSet", &kTagDescriptionList},
};
constexpr Shape kDescribeTagsResult = structureShape(kDescribeTagsResultMembers);
constexpr Member kNetworkInterfaceAssociationMembers[] = {
    {"AllocationId", "allocationId", &kString}, {"AssociationId", "associationId", &kString},
    {"IpOwnerId", "ipOwnerId", &kString},       {"PublicDnsName", "publicDnsName", &kString},
    {"PublicIp", "publicIp", &kString},         {"CustomerOwnedIp", "customerOwnedIp", &kString},
    {"CarrierIp", "carrierIp", &kString},
};
constexpr Shape kNetworkInterfaceAssociation = structureShape(kNetworkInterfaceAssociationMembers);
constexpr Member kAttachmentEnaSrdUdpSpecificationMembers[] = {
    {"EnaSrdUdpEnabled", "enaSrdUdpEnabled", &kBoolean},
};
constexpr Shape kAttachmentEnaSrdUdpSpecification =
    structureShape(kAttachmentEnaSrdUdpSpecificationMembers);
constexpr Member kAttachmentEnaSrdSpecificationMembers[] = {
    {"EnaSrdEnabled", "enaSrdEnabled", &kBoolean},
    {"EnaSrdUdpSpecification", "enaSrdUdpSpecification", &kAttachmentEnaSrdUdpSpecification},
};
constexpr Shape kAttachmentEnaSrdSpecification =
    structureShape(kAttachmentEnaSrdSpecificationMembers);
constexpr Member kNetworkInterfaceAttachmentMembers[] = {
    {"AttachTime", "attachTime", &kTimestamp},
    {"AttachmentId", "attachmentId", &kString},
    {"DeleteOnTermination", "deleteOnTermination", &kBoolean},
    {"DeviceIndex", "deviceIndex", &kInteger},
    {"NetworkCardIndex", "networkCardIndex", &kInteger},
    {"InstanceId", "instanceId", &kString},
    {"InstanceOwnerId", "instanceOwnerId", &kString},
    {"Status", "status", &kString},
    {"EnaSrdSpecification", "enaSrdSpecification", &kAttachmentEnaSrdSpecification},
    {"EnaQueueCount", "enaQueueCount", &kInteger},
};
constexpr Shape kNetworkInterfaceAttachment = structureShape(kNetworkInterfaceAttachmentMembers);
constexpr Member kConnectionTrackingConfigurationMembers[] = {
    {"TcpEstablishedTimeout", "tcpEstablishedTimeout", &kInteger},
    {"UdpStreamTimeout", "udpStreamTimeout", &kInteger},
    {"UdpTimeout", "udpTimeout", &kInteger},
};
constexpr Shape kConnectionTrackingConfiguration =
    structureShape(kConnectionTrackingConfigurationMembers);
constexpr Member kGroupIdentifierMembers[] = {
    {"GroupId", "groupId", &kString},
    {"GroupName", "groupName", &kString},
};
constexpr Shape kGroupIdentifier = structureShape(kGroupIdentifierMembers);
constexpr Shape kGroupIdentifierList = listShape(&kGroupIdentifier);
constexpr Member kNetworkInterfaceIpv6AddressMembers[] = {
    {"Ipv6Address", "ipv6Address", &kString},
    {"PublicIpv6DnsName", "publicIpv6DnsName", &kString},
    {"IsPrimaryIpv6", "isPrimaryIpv6", &kBoolean},
};
constexpr Shape kNetworkInterfaceIpv6Address = structureShape(kNetworkInterfaceIpv6AddressMembers);
constexpr Shape kNetworkInterfaceIpv6AddressesList = listShape(&kNetworkInterfaceIpv6Address);
constexpr Member kPublicIpDnsNameOptionsMembers[] = {
    {"DnsHostnameType", "dnsHostnameType", &kString},
    {"PublicIpv4DnsName", "publicIpv4DnsName", &kString},
    {"PublicIpv6DnsName", "publicIpv6DnsName", &kString},
    {"PublicDualStackDnsName", "publicDualStackDnsName", &kString},
};
constexpr Shape kPublicIpDnsNameOptions = structureShape(kPublicIpDnsNameOptionsMembers);
constexpr Member kNetworkInterfacePrivateIpAddressMembers[] = {
    {"Association", "association", &kNetworkInterfaceAssociation},
    {"Primary", "primary", &kBoolean},
    {"PrivateDnsName", "privateDnsName", &kString},
    {"PrivateIpAddress", "privateIpAddress", &kString},
};
constexpr Shape kNetworkInterfacePrivateIpAddress =
    structureShape(kNetworkInterfacePrivateIpAddressMembers);
constexpr Shape kNetworkInterfacePrivateIpAddressList =
    listShape(&kNetworkInterfacePrivateIpAddress);
constexpr Member kIpv4PrefixSpecificationMembers[] = {
    {"Ipv4Prefix", "ipv4Prefix", &kString},
};
constexpr Shape kIpv4PrefixSpecification = structureShape(kIpv4PrefixSpecificationMembers);
constexpr Shape kIpv4PrefixesList = listShape(&kIpv4PrefixSpecification);
constexpr Member kIpv6PrefixSpecificationMembers[] = {
    {"Ipv6Prefix", "ipv6Prefix", &kString},
};
constexpr Shape kIpv6PrefixSpecification = structureShape(kIpv6PrefixSpecificationMembers);
constexpr Shape kIpv6PrefixesList = listShape(&kIpv6PrefixSpecification);
constexpr Member kOperatorResponseMembers[] = {
    {"Managed", "managed", &kBoolean},
    {"Principal", "principal", &kString},
    {"HiddenByDefault", "hiddenByDefault", &kBoolean},
};
constexpr Shape kOperatorResponse = structureShape(kOperatorResponseMembers);
constexpr Member kNetworkInterfaceMembers[] = {
    {"Association", "association", &kNetworkInterfaceAssociation},
    {"Attachment", "attachment", &kNetworkInterfaceAttachment},
    {"AvailabilityZone", "availabilityZone", &kString},
    {"ConnectionTrackingConfiguration", "connectionTrackingConfiguration",
     &kConnectionTrackingConfiguration},
    {"Description", "description", &kString},
    {"Groups", "groupSet", &kGroupIdentifierList},
    {"InterfaceType", "interfaceType", &kString},
    {"Ipv6Addresses", "ipv6AddressesSet", &kNetworkInterfaceIpv6AddressesList},
    {"MacAddress", "macAddress", &kString},
    {"NetworkInterfaceId", "networkInterfaceId", &kString},
    {"OutpostArn", "outpostArn", &kString},
    {"OwnerId", "ownerId", &kString},
    {"PrivateDnsName", "privateDnsName", &kString},
    {"PublicDnsName", "publicDnsName", &kString},
    {"PublicIpDnsNameOptions", "publicIpDnsNameOptions", &kPublicIpDnsNameOptions},
    {"PrivateIpAddress", "privateIpAddress", &kString},
    {"PrivateIpAddresses", "privateIpAddressesSet", &kNetworkInterfacePrivateIpAddressList},
    {"Ipv4Prefixes", "ipv4PrefixSet", &kIpv4PrefixesList},
    {"Ipv6Prefixes", "ipv6PrefixSet", &kIpv6PrefixesList},
    {"RequesterId", "requesterId", &kString},
    {"RequesterManaged", "requesterManaged", &kBoolean},
    {"SourceDestCheck", "sourceDestCheck", &kBoolean},
    {"Status", "status", &kString},
    {"SubnetId", "subnetId", &kString},
    {"TagSet", "tagSet", &kTagList},
    {"VpcId", "vpcId", &kString},
    {"DenyAllIgwTraffic", "denyAllIgwTraffic", &kBoolean},
    {"Ipv6Native", "ipv6Native", &kBoolean},
    {"Ipv6Address", "ipv6Address", &kString},
    {"Operator", "operator", &kOperatorResponse},
    {"AssociatedSubnets", "associatedSubnetSet", &kStringList},
    {"AvailabilityZoneId", "availabilityZoneId", &kString},
};
constexpr Shape kNetworkInterface = structureShape(kNetworkInterfaceMembers);
constexpr Member kCreateNetworkInterfaceResultMembers[] = {
    {"NetworkInterface", "networkInterface", &kNetworkInterface},
    {"ClientToken", "clientToken", &kString},
};
constexpr Shape kCreateNetworkInterfaceResult =
    structureShape(kCreateNetworkInterfaceResultMembers);
constexpr Shape kNetworkInterfaceList = listShape(&kNetworkInterface);
constexpr Member kDescribeNetworkInterfacesResultMembers[] = {
    {"NetworkInterfaces", "networkInterfaceSet", &kNetworkInterfaceList},
    {"NextToken", "nextToken", &kString},
};
constexpr Shape kDescribeNetworkInterfacesResult =
    structureShape(kDescribeNetworkInterfacesResultMembers);
constexpr std::pair<std::string_view, const Shape*> kOutputShapes[] = {
    {"CreateTrafficMirrorTarget", &kCreateTrafficMirrorTargetResult},
    {"DescribeTrafficMirrorTargets", &kDescribeTrafficMirrorTargetsResult},
    {"DeleteTrafficMirrorTarget", &kDeleteTrafficMirrorTargetResult},
    {"CreateTrafficMirrorFilter", &kCreateTrafficMirrorFilterResult},
    {"DescribeTrafficMirrorFilters", &kDescribeTrafficMirrorFiltersResult},
    {"DeleteTrafficMirrorFilter", &kDeleteTrafficMirrorFilterResult},
    {"ModifyTrafficMirrorFilterNetworkServices", &kModifyTrafficMirrorFilterNetworkServicesResult},
    {"CreateTrafficMirrorFilterRule", &kCreateTrafficMirrorFilterRuleResult},
    {"DescribeTrafficMirrorFilterRules", &kDescribeTrafficMirrorFilterRulesResult},
    {"ModifyTrafficMirrorFilterRule", &kModifyTrafficMirrorFilterRuleResult},
    {"DeleteTrafficMirrorFilterRule", &kDeleteTrafficMirrorFilterRuleResult},
    {"CreateTrafficMirrorSession", &kCreateTrafficMirrorSessionResult},
    {"DescribeTrafficMirrorSessions", &kDescribeTrafficMirrorSessionsResult},
    {"ModifyTrafficMirrorSession", &kModifyTrafficMirrorSessionResult},
    {"DeleteTrafficMirrorSession", &kDeleteTrafficMirrorSessionResult},
    {"CreateTags", nullptr},
    {"DeleteTags", nullptr},
    {"DescribeTags", &kDescribeTagsResult},
    {"CreateNetworkInterface", &kCreateNetworkInterfaceResult},
    {"DescribeNetworkInterfaces", &kDescribeNetworkInterfacesResult},
    {"DeleteNetworkInterface", nullptr},
};

// --- A small XML reader --------------------------------------------------------------------
// Enough XML for EC2 responses: elements, text, the five entities and character references,
// CDATA, comments, processing instructions and a DOCTYPE without an internal subset. Namespace
// prefixes are dropped, as botocore drops ElementTree's "{uri}".

struct XmlNode {
  std::string name;
  std::string text;  // the element's own text (a leaf's content)
  std::vector<XmlNode> children;

  const XmlNode* child(std::string_view child_name) const {
    for (const auto& c : children) {
      if (c.name == child_name) {
        return &c;
      }
    }
    return nullptr;
  }
};

constexpr int kMaxXmlDepth = 64;

bool isXmlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class XmlReader {
 public:
  explicit XmlReader(std::string_view input) : in_(input) {}

  Result<XmlNode> document() {
    if (in_.starts_with("\xEF\xBB\xBF")) {
      pos_ = 3;
    }
    if (auto ok = skipMisc(); !ok) {
      return std::unexpected(ok.error());
    }
    if (pos_ >= in_.size() || in_[pos_] != '<') {
      return fail("no root element");
    }
    XmlNode root;
    if (auto ok = element(root, 0); !ok) {
      return std::unexpected(ok.error());
    }
    if (auto ok = skipMisc(); !ok) {
      return std::unexpected(ok.error());
    }
    if (pos_ != in_.size()) {
      return fail("content after the root element");
    }
    return root;
  }

 private:
  std::unexpected<Error> fail(std::string_view what) const {
    return makeError(ErrorCode::InvalidArgument,
                     "invalid XML at byte " + std::to_string(pos_) + ": " + std::string(what));
  }

  bool at(std::string_view token) const { return in_.substr(pos_).starts_with(token); }

  Result<void> skipPast(std::string_view terminator) {
    const auto end = in_.find(terminator, pos_);
    if (end == std::string_view::npos) {
      return fail("unterminated markup");
    }
    pos_ = end + terminator.size();
    return {};
  }

  // Whitespace, comments, processing instructions and a DOCTYPE outside the root.
  Result<void> skipMisc() {
    while (true) {
      while (pos_ < in_.size() && isXmlSpace(in_[pos_])) {
        ++pos_;
      }
      Result<void> skipped;
      if (at("<?")) {
        skipped = skipPast("?>");
      } else if (at("<!--")) {
        skipped = skipPast("-->");
      } else if (at("<!DOCTYPE")) {
        skipped = skipPast(">");
      } else {
        return {};
      }
      if (!skipped) {
        return skipped;
      }
    }
  }

  std::string_view name() {
    const auto start = pos_;
    while (pos_ < in_.size() && !isXmlSpace(in_[pos_]) && in_[pos_] != '/' && in_[pos_] != '>' &&
           in_[pos_] != '=') {
      ++pos_;
    }
    return in_.substr(start, pos_ - start);
  }

  static std::string localName(std::string_view qualified) {
    const auto colon = qualified.find(':');
    return std::string(colon == std::string_view::npos ? qualified : qualified.substr(colon + 1));
  }

  Result<void> text(std::string& out) {
    while (pos_ < in_.size() && in_[pos_] != '<') {
      const char c = in_[pos_];
      if (c != '&') {
        out += c;
        ++pos_;
        continue;
      }
      const auto semi = in_.find(';', pos_);
      if (semi == std::string_view::npos || semi - pos_ > 12) {
        return fail("bad entity reference");
      }
      const auto entity = in_.substr(pos_ + 1, semi - pos_ - 1);
      static constexpr std::pair<std::string_view, char> kNamed[] = {
          {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
      const auto named = std::find_if(std::begin(kNamed), std::end(kNamed),
                                      [&](const auto& e) { return e.first == entity; });
      if (named != std::end(kNamed)) {
        out += named->second;
      } else if (entity.size() > 1 && entity[0] == '#') {
        const bool hex = entity[1] == 'x';
        const auto digits = entity.substr(hex ? 2 : 1);
        uint32_t cp = 0;
        auto [ptr, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
        if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() ||
            cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          return fail("bad character reference");
        }
        appendUtf8(out, cp);
      } else {
        return fail("unknown entity");
      }
      pos_ = semi + 1;
    }
    return {};
  }

  // At '<' of a start tag.
  Result<void> element(XmlNode& node, int depth) {
    if (depth >= kMaxXmlDepth) {
      return fail("elements nested too deeply");
    }
    ++pos_;
    const auto qualified = name();
    if (qualified.empty()) {
      return fail("element without a name");
    }
    node.name = localName(qualified);
    // Attributes are skipped: EC2 responses carry only xmlns.
    while (true) {
      if (pos_ >= in_.size()) {
        return fail("unterminated start tag");
      }
      const char c = in_[pos_];
      if (c == '>') {
        ++pos_;
        break;
      }
      if (c == '/' && at("/>")) {
        pos_ += 2;
        return {};
      }
      if (c == '"' || c == '\'') {
        const auto close = in_.find(c, pos_ + 1);
        if (close == std::string_view::npos) {
          return fail("unterminated attribute value");
        }
        pos_ = close + 1;
        continue;
      }
      if (c == '<') {
        return fail("'<' in a start tag");
      }
      ++pos_;
    }
    while (true) {
      if (pos_ >= in_.size()) {
        return fail("unterminated element <" + node.name + ">");
      }
      if (at("</")) {
        pos_ += 2;
        const auto closing = name();
        while (pos_ < in_.size() && isXmlSpace(in_[pos_])) {
          ++pos_;
        }
        if (closing != qualified || pos_ >= in_.size() || in_[pos_] != '>') {
          return fail("mismatched end tag");
        }
        ++pos_;
        return {};
      }
      Result<void> step;
      if (at("<!--")) {
        step = skipPast("-->");
      } else if (at("<?")) {
        step = skipPast("?>");
      } else if (at("<![CDATA[")) {
        const auto start = pos_ + 9;
        step = skipPast("]]>");
        if (step && node.children.empty()) {
          node.text.append(in_.substr(start, pos_ - 3 - start));
        }
      } else if (in_[pos_] == '<') {
        node.children.emplace_back();
        step = element(node.children.back(), depth + 1);
      } else {
        std::string chunk;
        step = text(chunk);
        if (node.children.empty()) {  // ElementTree's .text: what comes before the first child
          node.text += chunk;
        }
      }
      if (!step) {
        return step;
      }
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

// --- Conversion ----------------------------------------------------------------------------

// Python's int(): surrounding whitespace and a sign allowed.
std::optional<int64_t> parsePythonInt(std::string_view text) {
  while (!text.empty() && isXmlSpace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && isXmlSpace(text.back())) {
    text.remove_suffix(1);
  }
  if (text.starts_with('+')) {
    text.remove_prefix(1);
  }
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

bool allDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ISO 8601 from the wire, printed as Python's datetime.isoformat() (what aws v2 prints):
// "2024-01-02T03:04:05.5Z" -> "2024-01-02T03:04:05.500000+00:00". Anything else as it came.
std::string formatTimestamp(std::string_view text) {
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':') {
    return std::string(text);
  }
  std::string out(text.substr(0, 19));
  out[10] = 'T';
  std::string_view rest = text.substr(19);
  if (rest.starts_with('.')) {
    auto end = rest.find_first_not_of("0123456789", 1);
    end = end == std::string_view::npos ? rest.size() : end;
    std::string fraction(rest.substr(1, end - 1));
    rest.remove_prefix(end);
    fraction.resize(6, '0');
    if (fraction != "000000") {
      out += "." + fraction;
    }
  }
  if (rest.empty() || rest == "Z" || rest == "z") {
    return out + "+00:00";
  }
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
      allDigits(rest.substr(1, 2)) && allDigits(rest.substr(4, 2))) {
    return out + std::string(rest);
  }
  return std::string(text);
}

Result<nlohmann::ordered_json> convert(const XmlNode& node, const Shape& shape) {
  switch (shape.kind) {
    case ShapeKind::String:
      return nlohmann::ordered_json(node.text);
    case ShapeKind::Boolean:
      return nlohmann::ordered_json(node.text == "true");
    case ShapeKind::Timestamp:
      return nlohmann::ordered_json(formatTimestamp(node.text));
    case ShapeKind::Integer: {
      auto value = parsePythonInt(node.text);
      if (!value) {
        return makeError(ErrorCode::InvalidArgument,
                         "<" + node.name + "> is not an integer: '" + node.text + "'");
      }
      return nlohmann::ordered_json(*value);
    }
    case ShapeKind::List: {
      auto list = nlohmann::ordered_json::array();
      for (const auto& item : node.children) {
        auto value = convert(item, *shape.element);
        if (!value) {
          return value;
        }
        list.push_back(std::move(*value));
      }
      return list;
    }
    case ShapeKind::Structure: {
      auto object = nlohmann::ordered_json::object();
      for (const auto& member : shape.members) {
        if (const auto* child = node.child(member.wireName())) {
          auto value = convert(*child, *member.shape);
          if (!value) {
            return value;
          }
          object[std::string(member.name)] = std::move(*value);
        }
      }
      return object;
    }
  }
  return makeError(ErrorCode::Internal, "unknown shape kind");
}

}  // namespace

std::optional<const Shape*> ec2OutputShape(std::string_view operation) {
  for (const auto& [name, shape] : kOutputShapes) {
    if (name == operation) {
      return shape;
    }
  }
  return std::nullopt;
}

Result<nlohmann::ordered_json> ec2XmlToJson(std::string_view xml, const Shape* output) {
  auto root = XmlReader(xml).document();
  if (!root) {
    return std::unexpected(root.error());
  }
  if (output == nullptr) {
    return nlohmann::ordered_json::object();
  }
  return convert(*root, *output);
}

std::optional<Ec2ErrorResponse> parseEc2Error(std::string_view xml) {
  auto root = XmlReader(xml).document();
  if (!root) {
    return std::nullopt;
  }
  // EC2: <Response><Errors><Error>; other Query services: <ErrorResponse><Error>.
  const XmlNode* error = nullptr;
  if (const auto* errors = root->child("Errors")) {
    error = errors->child("Error");
  } else {
    error = root->child("Error");
  }
  const XmlNode* code = error != nullptr ? error->child("Code") : nullptr;
  if (code == nullptr) {
    return std::nullopt;
  }
  const XmlNode* message = error->child("Message");
  return Ec2ErrorResponse{code->text, message != nullptr ? message->text : ""};
}

std::string formatAwsJson(const nlohmann::ordered_json& value) {
  if (value.is_object() && value.empty()) {
    return {};
  }
  return value.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace tmirror::cli
