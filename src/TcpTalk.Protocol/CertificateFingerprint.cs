using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TcpTalk.Protocol;

/// <summary>
/// SHA-256 fingerprints of certificates as people read and type them: <c>AB:CD:...</c>, 32 bytes. The server prints
/// its own at start; the client pins one (<c>send --tls-pin</c>) and shows both when they differ.
/// </summary>
public static class CertificateFingerprint
{
    /// <summary>The number of bytes in a SHA-256 fingerprint.</summary>
    public const int Length = 32;

    /// <summary>The SHA-256 hash of the certificate's DER bytes.</summary>
    public static byte[] Sha256(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetCertHash(HashAlgorithmName.SHA256);
    }

    /// <summary>The fingerprint as upper-case hex pairs separated by colons: <c>AB:CD:...</c>.</summary>
    public static string Format(ReadOnlySpan<byte> fingerprint) => string.Join(':', Convert.ToHexString(fingerprint).Chunk(2).Select(pair => new string(pair)));

    /// <summary>The certificate's SHA-256 fingerprint, formatted by <see cref="Format"/>.</summary>
    public static string FormatSha256(X509Certificate certificate) => Format(Sha256(certificate));

    /// <summary>
    /// Parses a SHA-256 fingerprint: 64 hex digits, upper or lower case, with or without colons (or spaces) between
    /// the pairs, as OpenSSL and browsers print it. An optional <c>sha256:</c> / <c>SHA256=</c> prefix is accepted.
    /// </summary>
    public static bool TryParse(string? text, out byte[] fingerprint)
    {
        fingerprint = [];
        if (text is null)
        {
            return false;
        }

        string digits = text.Trim();
        foreach (string prefix in new[] { "sha256:", "sha256=", "sha-256:", "sha-256=" })
        {
            if (digits.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                digits = digits[prefix.Length..];
                break;
            }
        }

        digits = digits.Replace(":", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
        if (digits.Length != Length * 2 || !digits.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        fingerprint = Convert.FromHexString(digits);
        return true;
    }

    /// <summary>The certificate's subject, or its SHA-256 fingerprint when it has none (for messages and logs).</summary>
    public static string Describe(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return string.IsNullOrEmpty(certificate.Subject) ? "(no subject) SHA256 " + FormatSha256(certificate) : certificate.Subject;
    }
}
