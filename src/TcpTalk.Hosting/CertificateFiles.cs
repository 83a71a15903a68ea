using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TcpTalk.Hosting;

/// <summary>
/// Reads the certificate files of the <c>Tls</c> settings: PEM (what <c>tcptalk cert create</c> writes, and OpenSSL)
/// or PKCS#12 without a password. A file that cannot be used is a <see cref="TalkSettingsException"/> for the setting
/// (<c>Tls:Certificate</c>, <c>Tls:Key</c>, <c>Tls:ClientCa</c>) whose sentence names it as <paramref name="names"/>
/// says, and the file.
/// </summary>
/// <param name="names">How sentences name the settings: by key, or by the flags that gave the files.</param>
public sealed class CertificateFiles(ISettingNames names)
{
    private const string CertificateKey = "Tls:Certificate";
    private const string KeyKey = "Tls:Key";
    private const string ClientCaKey = "Tls:ClientCa";

    private string CertificateName => names.Name(CertificateKey);

    private string KeyName => names.Name(KeyKey);

    /// <summary>
    /// A certificate with its private key: a PEM certificate with its key in <paramref name="keyPath"/> (or in the
    /// same file), or a PKCS#12 file (.pfx, .p12) without a password.
    /// </summary>
    public X509Certificate2 LoadWithKey(string certificatePath, string? keyPath)
    {
        byte[] content = Read(certificatePath, CertificateKey);
        if (keyPath is not null)
        {
            Read(keyPath, KeyKey);
        }

        X509Certificate2 certificate;
        if (IsPem(content))
        {
            string text = Encoding.ASCII.GetString(content);
            if (keyPath is null && !text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            {
                throw Problem(CertificateKey, $"{certificatePath} holds no private key; give it with {KeyName}");
            }

            if ((keyPath is null ? text : File.ReadAllText(keyPath)).Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
            {
                throw Problem(keyPath is null ? CertificateKey : KeyKey, $"{keyPath ?? certificatePath}: the private key is encrypted; TcpTalk reads unencrypted keys (keep the file owner-only)");
            }

            try
            {
                certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            }
            catch (CryptographicException e)
            {
                throw Problem(CertificateKey, $"{certificatePath}{(keyPath is null ? "" : $" with {KeyName} {keyPath}")}: not a certificate and its matching private key in PEM", e);
            }
            catch (ArgumentException e)
            {
                throw Problem(keyPath is null ? CertificateKey : KeyKey, $"{keyPath ?? certificatePath}: the private key does not belong to the certificate in {certificatePath}", e);
            }
        }
        else
        {
            if (keyPath is not null)
            {
                throw Problem(KeyKey, $"is for PEM certificates; {certificatePath} is not PEM (a PKCS#12 file holds its own key)");
            }

            try
            {
                certificate = X509CertificateLoader.LoadPkcs12(content, password: null);
            }
            catch (CryptographicException e)
            {
                throw Problem(CertificateKey, $"{certificatePath}: neither PEM nor a PKCS#12 file without a password", e);
            }

            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                throw Problem(CertificateKey, $"{certificatePath} holds no private key");
            }
        }

        if (OperatingSystem.IsWindows())
        {
            // Windows' TLS (SChannel) cannot use a key that lives only in this process, as a key read from PEM does:
            // going through PKCS#12 gives it one the system can use.
            var usable = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
            certificate.Dispose();
            certificate = usable;
        }

        return certificate;
    }

    /// <summary>
    /// The other certificates in the file of <paramref name="leaf"/>: the intermediate CAs of a <c>fullchain.pem</c> or of
    /// a PKCS#12 file, to be sent with it. Called after <see cref="LoadWithKey"/> has read the file.
    /// </summary>
    public static X509Certificate2Collection LoadIntermediates(string certificatePath, X509Certificate2 leaf)
    {
        byte[] content = File.ReadAllBytes(certificatePath);
        var all = new X509Certificate2Collection();
        if (IsPem(content))
        {
            all.ImportFromPem(Encoding.ASCII.GetString(content));
        }
        else
        {
            all = X509CertificateLoader.LoadPkcs12Collection(content, password: null);
        }

        var others = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                certificate.Dispose();
            }
            else
            {
                others.Add(certificate);
            }
        }

        return others;
    }

    /// <summary>The certificates (CAs) in a PEM file, or the one certificate of a DER file.</summary>
    public X509Certificate2Collection LoadCertificates(string path)
    {
        byte[] content = Read(path, ClientCaKey);
        var certificates = new X509Certificate2Collection();
        try
        {
            if (IsPem(content))
            {
                certificates.ImportFromPem(Encoding.ASCII.GetString(content));
            }
            else
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(content));
            }
        }
        catch (CryptographicException e)
        {
            throw Problem(ClientCaKey, $"{path}: not a certificate (PEM or DER)", e);
        }

        return certificates.Count > 0 ? certificates : throw Problem(ClientCaKey, $"{path}: no certificate in it");
    }

    private byte[] Read(string path, string key)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Problem(key, $"{path}: no such file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Problem(key, $"{path}: cannot be read ({e.GetType().Name})", e);
        }
    }

    private static bool IsPem(byte[] content) => content.AsSpan().IndexOf("-----BEGIN "u8) >= 0;

    private TalkSettingsException Problem(string key, string problem, Exception? inner = null) => new(new SettingProblem(key, problem), names, inner);
}
