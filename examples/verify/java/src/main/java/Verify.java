// Relying-party example (Java, Nimbus JOSE+JWT; Ed25519 through Google Tink): verify a ztmint
// token the way docs/verifying.md says.
//
//   java -cp "$(cat target/classpath.txt)" src/main/java/Verify.java <issuer> <audience> <token> [required-scope ...]
//
// Exits 0 and prints the claims for a genuine token, 1 for any token it refuses, 2 on bad usage.
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

public class Verify {
  static final int LEEWAY_S = 30; // small clock-skew allowance for exp, nbf and iat

  /** The JWKS URL from the issuer's discovery document, which must name this issuer. */
  static URL jwksUri(String issuer) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    String url = issuer.replaceAll("/$", "") + "/.well-known/openid-configuration";
    HttpResponse<String> res = http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) throw new Exception("discovery answered " + res.statusCode());
    Map<String, Object> discovery = JSONObjectUtils.parse(res.body());
    if (!issuer.equals(discovery.get("issuer"))) {
      throw new Exception("discovery names issuer " + discovery.get("issuer") + ", not " + issuer);
    }
    return URI.create((String) discovery.get("jwks_uri")).toURL();
  }

  static JWTClaimsSet verify(String issuer, String audience, String token, List<String> requiredScopes) throws Exception {
    SignedJWT jwt = SignedJWT.parse(token);
    JWSHeader header = jwt.getHeader();
    // EdDSA only: never none, HS*, RS*. (A token with alg none does not even parse as a SignedJWT.)
    if (!JWSAlgorithm.EdDSA.equals(header.getAlgorithm())) throw new Exception("alg " + header.getAlgorithm() + " is not EdDSA");
    if (!JOSEObjectType.JWT.equals(header.getType())) throw new Exception("typ " + header.getType() + " is not JWT");
    if (header.getKeyID() == null) throw new Exception("the header has no kid");
    // The key by kid from the JWKS named by discovery. (Nimbus's JWSVerificationKeySelector cannot
    // hand OKP keys to DefaultJWTProcessor, so the Ed25519Verifier is used directly, with Tink.)
    JWKSet keys = JWKSet.load(jwksUri(issuer), 10_000, 10_000, 1 << 20);
    JWK jwk = keys.getKeyByKeyId(header.getKeyID());
    if (!(jwk instanceof OctetKeyPair okp) || !Curve.Ed25519.equals(okp.getCurve())) {
      throw new Exception("no Ed25519 key with kid " + header.getKeyID());
    }
    if (!jwt.verify(new Ed25519Verifier(okp.toPublicJWK()))) throw new Exception("bad signature");
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
        audience,
        new JWTClaimsSet.Builder().issuer(issuer).build(),
        Set.of("iss", "sub", "aud", "iat", "nbf", "exp", "jti", "scope", "pol"));
    claims.setMaxClockSkew(LEEWAY_S); // iss, aud, exp/nbf with a small leeway, required claims
    JWTClaimsSet set = jwt.getJWTClaimsSet();
    claims.verify(set, null);
    for (String name : List.of("sub", "jti", "scope", "pol")) {
      if (!(set.getClaim(name) instanceof String)) throw new Exception("claim " + name + " is not a string");
    }
    // scope: space-separated scope-tokens; every required scope must be among them.
    List<String> scopes = Arrays.stream(set.getStringClaim("scope").split(" ")).filter(s -> !s.isEmpty()).toList();
    for (String s : requiredScopes) {
      if (!scopes.contains(s)) throw new Exception("missing scope " + s);
    }
    return new JWTClaimsSet.Builder(set).claim("scopes", scopes).build();
  }

  public static void main(String[] args) {
    if (args.length < 3) {
      System.err.println("usage: Verify <issuer> <audience> <token> [required-scope ...]");
      System.exit(2);
    }
    try {
      JWTClaimsSet claims = verify(args[0], args[1], args[2], Arrays.asList(args).subList(3, args.length));
      System.out.println(JSONObjectUtils.toJSONString(claims.toJSONObject()));
    } catch (Exception err) {
      System.err.println("refused: " + err.getClass().getSimpleName() + ": " + err.getMessage());
      System.exit(1);
    }
  }
}
