#include "api/request_auth.h"

namespace tmirror::api {

ApiError authError(SigV4Status status, const SigV4Parsed& parsed,
                   std::chrono::system_clock::time_point now) {
  // Real EC2 answers AuthFailure for most of these, including a wrong signature; the message
  // carries the detail.
  switch (status) {
    case SigV4Status::Ok:
      break;
    case SigV4Status::MissingAuthorization:
      return {"AuthFailure",
              "Authorization header is missing: requests must be signed with AWS Signature "
              "Version 4 (configure credentials, or use --no-sign-request only against a server "
              "that allows it)."};
    case SigV4Status::UnsupportedAlgorithm:
      return {"IncompleteSignature",
              "Unsupported Authorization header algorithm: only AWS4-HMAC-SHA256 is accepted."};
    case SigV4Status::MalformedAuthorization:
      return {"IncompleteSignature",
              "Authorization header requires 'Credential' "
              "(AKID/yyyymmdd/region/service/aws4_request), 'SignedHeaders' (lower-case, sorted, "
              "';'-separated) and 'Signature' (64 hex digits) parameters."};
    case SigV4Status::MissingDate:
      return {"AuthFailure",
              "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
              "header."};
    case SigV4Status::MalformedDate:
      return {"AuthFailure",
              "Invalid request date: 'X-Amz-Date' must be yyyyMMdd'T'HHmmss'Z' (or 'Date' an "
              "RFC 1123 date)."};
    case SigV4Status::RequestExpired:
      return {"RequestExpired", "Request has expired: signature date " + parsed.amz_date +
                                    " is more than 15 minutes from the server time " +
                                    formatAmzDate(now) + "; check the client clock."};
    case SigV4Status::WrongService:
      return {"AuthFailure", "Credential should be scoped to correct service: '" +
                                 std::string(kEc2SigningService) + "', not '" + parsed.service +
                                 "'."};
    case SigV4Status::ScopeDateMismatch:
      return {"AuthFailure",
              "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
              "version of date from HTTP: '" +
                  parsed.date + "' != '" + parsed.amz_date.substr(0, 8) + "'."};
    case SigV4Status::UnknownAccessKey:
      return {"AuthFailure", "AWS was not able to validate the provided access credentials"};
    case SigV4Status::HostNotSigned:
      return {"IncompleteSignature", "The 'host' header must be among the SignedHeaders."};
    case SigV4Status::SignedHeaderMissing:
      return {"AuthFailure",
              "A header named in SignedHeaders is not present in the request; the signature "
              "cannot be validated."};
    case SigV4Status::BadPayloadHash:
      return {"AuthFailure",
              "The provided 'x-amz-content-sha256' header does not match the SHA-256 of the "
              "request body."};
    case SigV4Status::SignatureMismatch:
      return {"AuthFailure",
              "The request signature we calculated does not match the signature you provided. "
              "Check your AWS Secret Access Key and signing method."};
  }
  return {"InternalError", "authentication failed without a reason"};
}

ApiResult<std::string> authenticateRequest(const HttpRequestView& request,
                                           const SecretLookup& secret_for,
                                           std::chrono::system_clock::time_point now,
                                           std::string_view region, std::string_view service) {
  const SigV4Request sigv4{request.method, request.path, request.query, request.body,
                           &request.headers};
  SigV4Parsed parsed;
  const SigV4Status status = verifySigV4(sigv4, secret_for, now, service, parsed);
  // The verifier signs with the request's own scope; a region other than the server's would
  // have given another signature at EC2, which names the scope as the fault.
  if ((status == SigV4Status::Ok || status == SigV4Status::SignatureMismatch) &&
      parsed.region != region) {
    return apiError("AuthFailure", "Credential should be scoped to a valid region, not '" +
                                       parsed.region.substr(0, 64) + "'.");
  }
  if (status != SigV4Status::Ok) {
    return std::unexpected(authError(status, parsed, now));
  }
  return std::move(parsed.access_key_id);
}

Authenticator sigV4Authenticator(std::string region, std::string service) {
  return [region = std::move(region), service = std::move(service)](
             const HttpRequestView& request, const SecretLookup& secret_for) {
    return authenticateRequest(request, secret_for, std::chrono::system_clock::now(), region,
                               service);
  };
}

ApiResult<std::string> anonymousAuthenticator(const HttpRequestView&, const SecretLookup&) {
  return std::string("anonymous");
}

}  // namespace tmirror::api
