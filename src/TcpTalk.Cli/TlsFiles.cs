using System.Security.Cryptography.X509Certificates;
using TcpTalk.Hosting;

namespace TcpTalk.Cli;

/// <summary>
/// Reads the certificate files named by the client's flags (<c>send --tls-cert</c>, <c>--tls-ca</c>) with the same
/// rules and sentences as the server's <c>Tls</c> settings (<see cref="CertificateFiles"/>). A file that cannot be
/// used is a <see cref="UserErrorException"/> with <see cref="ExitCode.Usage"/>, one line naming the flag and the file.
/// </summary>
internal static class TlsFiles
{
    /// <summary>A certificate with its private key: PEM with the key in <paramref name="keyPath"/> (or the same file), or PKCS#12 without a password.</summary>
    public static X509Certificate2 LoadWithKey(string certificatePath, string? keyPath, string certificateOption, string keyOption) =>
        Translate(() => new CertificateFiles(new FlagNames(certificateOption, keyOption, "")).LoadWithKey(certificatePath, keyPath));

    /// <summary>The certificates (CAs) in a PEM file, or the one certificate of a DER file.</summary>
    public static X509Certificate2Collection LoadCertificates(string path, string option) =>
        Translate(() => new CertificateFiles(new FlagNames("", "", option)).LoadCertificates(path));

    private static T Translate<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (TalkSettingsException e)
        {
            throw new UserErrorException(ExitCode.Usage, e.Message, e);
        }
    }

    /// <summary>Names the <c>Tls</c> settings by the client's flags.</summary>
    private sealed class FlagNames(string certificate, string key, string authorities) : ISettingNames
    {
        public string Name(string setting) => setting switch
        {
            "Tls:Certificate" => certificate,
            "Tls:Key" => key,
            "Tls:ClientCa" => authorities,
            _ => setting,
        };

        public string NameWithValue(string setting, string value) => Name(setting);
    }
}
