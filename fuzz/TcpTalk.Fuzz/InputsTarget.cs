using System.Buffers.Binary;
using System.Net;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// Fuzzes the parsers of values users type: the first byte picks one, the rest (as UTF-8) is the text.
/// <list type="bullet">
/// <item><see cref="HostAndPort.TryParse"/>: never throws; a result has a host and a port 0-65535, and its
/// <see cref="HostAndPort.ToString"/> parses back to the same result.</item>
/// <item><see cref="GreetingTemplate.Parse"/>: throws nothing but <see cref="FormatException"/>; a template formats every
/// address (longest IPv6 with a scope id included) within <see cref="GreetingTemplate.MaxFormattedBytes"/>, exactly as
/// plain text substitution does.</item>
/// <item><see cref="CertificateFingerprint.TryParse"/>: never throws; a result has 32 bytes and its formatted form parses back.</item>
/// <item><see cref="FramingModeNames.TryParse"/>: never throws; a result's name parses back to it.</item>
/// </list>
/// </summary>
internal static class InputsTarget
{
    private static readonly Encoding[] s_greetingEncodings = [MessageText.Utf8, MessageText.GetEncoding("gbk"), MessageText.GetEncoding("cp437")];

    public static void Run(byte[] data)
    {
        int which = data.Length > 0 ? data[0] % 4 : 0;
        string text = data.Length > 1 ? Encoding.UTF8.GetString(data, 1, data.Length - 1) : string.Empty;
        switch (which)
        {
            case 0:
                HostAndPortTarget(text, data);
                break;
            case 1:
                GreetingTarget(text, data);
                break;
            case 2:
                FingerprintTarget(text, data);
                break;
            default:
                FramingTarget(text, data);
                break;
        }
    }

    private static void HostAndPortTarget(string text, byte[] data)
    {
        if (!HostAndPort.TryParse(text, HostAndPort.DefaultPort, out var parsed, out string? error))
        {
            InvariantViolationException.Check(!string.IsNullOrEmpty(error) && !error.Contains('\n', StringComparison.Ordinal),
                $"HostAndPort failed without a one-line reason: '{error}'", data);
            return;
        }

        InvariantViolationException.Check(parsed.Host.Length > 0 && parsed.Port is >= 0 and <= 65535,
            $"HostAndPort parsed '{parsed.Host}' port {parsed.Port}", data);
        string shown = parsed.ToString();
        bool again = HostAndPort.TryParse(shown, -1, out var reparsed, out string? againError);
        InvariantViolationException.Check(again && reparsed == parsed,
            $"HostAndPort '{text}' shows as '{shown}', which parses {(again ? $"as {reparsed}" : $"not at all: {againError}")}", data);
    }

    private static void GreetingTarget(string text, byte[] data)
    {
        var encoding = s_greetingEncodings[text.Length % s_greetingEncodings.Length];
        GreetingTemplate template;
        try
        {
            template = GreetingTemplate.Parse(text, encoding);
        }
        catch (FormatException e)
        {
            InvariantViolationException.Check(e.Message.StartsWith("greeting template", StringComparison.Ordinal) && !e.Message.Contains('\n', StringComparison.Ordinal),
                $"greeting error '{e.Message}' is not one line about the template", data);
            return;
        }

        // The address and port come from the input's last bytes when there are enough, else the longest cases.
        var address = new IPAddress(data.Length >= 17 ? data.AsSpan(data.Length - 16) : new byte[16].Select(_ => (byte)0xFF).ToArray(),
            data.Length >= 21 ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(data.Length - 20)) : uint.MaxValue);
        foreach (var (client, port) in new[] { (address, 65535), (IPAddress.Parse("::ffff:255.255.255.255"), 0), (IPAddress.Loopback, 12345) })
        {
            var destination = new byte[template.MaxFormattedBytes];
            int length = template.Format(client, port, destination);
            string expected = Substitute(text, ClientAddress.Normalize(client).ToString(), port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            InvariantViolationException.Check(destination.AsSpan(0, length).SequenceEqual(encoding.GetBytes(expected)),
                $"greeting '{text}' for {client} port {port} formatted as '{encoding.GetString(destination, 0, length)}', expected '{expected}' (MaxFormattedBytes {template.MaxFormattedBytes})", data);
        }
    }

    /// <summary>The template with placeholders replaced and doubled braces halved, written as plainly as possible.</summary>
    private static string Substitute(string template, string address, string port)
    {
        var text = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            if (template.AsSpan(i).StartsWith("{address}", StringComparison.Ordinal))
            {
                text.Append(address);
                i += "{address}".Length - 1;
            }
            else if (template.AsSpan(i).StartsWith("{port}", StringComparison.Ordinal))
            {
                text.Append(port);
                i += "{port}".Length - 1;
            }
            else
            {
                bool doubled = template[i] is '{' or '}' && i + 1 < template.Length && template[i + 1] == template[i];
                text.Append(template[i]);
                i += doubled ? 1 : 0;
            }
        }

        return text.ToString();
    }

    private static void FingerprintTarget(string text, byte[] data)
    {
        if (!CertificateFingerprint.TryParse(text, out byte[] fingerprint))
        {
            return;
        }

        string shown = CertificateFingerprint.Format(fingerprint);
        InvariantViolationException.Check(fingerprint.Length == CertificateFingerprint.Length
            && CertificateFingerprint.TryParse(shown, out byte[] again) && again.AsSpan().SequenceEqual(fingerprint),
            $"fingerprint '{text}' shows as '{shown}', which does not parse back", data);
    }

    private static void FramingTarget(string text, byte[] data)
    {
        if (FramingModeNames.TryParse(text, out var mode))
        {
            InvariantViolationException.Check(FramingModeNames.TryParse(mode.ToName(), out var again) && again == mode,
                $"framing '{text}' is {mode}, whose name does not parse back", data);
        }
    }
}
