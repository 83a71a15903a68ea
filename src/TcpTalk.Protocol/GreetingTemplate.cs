using System.Net;
using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// A greeting such as <c>Welcome {address}!</c>, parsed once and formatted per connection without allocating.
/// Placeholders: <c>{address}</c> (the client's IP address as text, IPv4 for IPv4-mapped addresses) and
/// <c>{port}</c>; <c>{{</c> and <c>}}</c> stand for literal braces.
/// </summary>
public sealed class GreetingTemplate
{
    /// <summary>The classic programs' greeting: <c>Welcome {address}!</c>.</summary>
    public const string DefaultText = "Welcome {address}!";

    private readonly Part[] _parts;

    private GreetingTemplate(string text, Part[] parts)
    {
        Text = text;
        _parts = parts;
        MaxFormattedBytes = parts.Sum(p => p.Kind switch { PartKind.Address => ClientAddress.MaxAddressChars, PartKind.Port => 5, _ => p.Literal.Length });
    }

    /// <summary>The template as given.</summary>
    public string Text { get; }

    /// <summary>The default greeting in UTF-8.</summary>
    public static GreetingTemplate Default { get; } = Parse(DefaultText, MessageText.Utf8);

    /// <summary>The most bytes a formatted greeting can take: its literal text, the longest IPv6 address with a scope id, a 5-digit port.</summary>
    public int MaxFormattedBytes { get; }

    /// <summary>Parses <paramref name="text"/>, encoding its literal parts with <paramref name="encoding"/>.</summary>
    /// <exception cref="FormatException">Unknown placeholder, unbalanced brace, or a character <paramref name="encoding"/>
    /// cannot encode; the message names it.</exception>
    public static GreetingTemplate Parse(string text, Encoding encoding)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(encoding);
        var parts = new List<Part>();
        var literal = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if ((c == '{' || c == '}') && i + 1 < text.Length && text[i + 1] == c)
            {
                literal.Append(c);
                i++;
                continue;
            }

            if (c == '}')
            {
                throw new FormatException($"greeting template has a '}}' at position {i} without a matching '{{' (write '}}}}' for a literal brace)");
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            int close = text.IndexOf('}', i + 1);
            if (close < 0)
            {
                throw new FormatException($"greeting template has a '{{' at position {i} that is never closed (write '{{{{' for a literal brace)");
            }

            string name = text[(i + 1)..close];
            var kind = name switch
            {
                "address" => PartKind.Address,
                "port" => PartKind.Port,
                _ => throw new FormatException($"greeting template has an unknown placeholder '{{{MessageText.Escape(name)}}}'; use {{address}} or {{port}}"),
            };
            Flush(literal, parts, encoding);
            parts.Add(new Part(kind, []));
            i = close;
        }

        Flush(literal, parts, encoding);
        return new GreetingTemplate(text, [.. parts]);
    }

    /// <summary>
    /// Writes the greeting for a client at <paramref name="address"/>:<paramref name="port"/>, without terminator,
    /// into <paramref name="destination"/>, which must hold <see cref="MaxFormattedBytes"/>. Returns the length.
    /// </summary>
    public int Format(IPAddress address, int port, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(address);
        return Format(ClientAddress.Normalize(address), null, port, destination);
    }

    /// <summary>
    /// Writes the greeting for a client named <paramref name="addressText"/> (a unix-socket peer:
    /// <c>unix:pid=42,uid=1000</c>; ASCII, at most <see cref="ClientAddress.MaxAddressChars"/> characters, longer is
    /// cut), port <paramref name="port"/>, like <see cref="Format(IPAddress, int, Span{byte})"/>.
    /// </summary>
    public int Format(string addressText, int port, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(addressText);
        return Format(null, addressText, port, destination);
    }

    private int Format(IPAddress? shown, string? addressText, int port, Span<byte> destination)
    {
        if (destination.Length < MaxFormattedBytes)
        {
            throw new ArgumentException($"destination must hold {MaxFormattedBytes} bytes", nameof(destination));
        }

        int length = 0;
        foreach (var part in _parts)
        {
            var span = destination[length..];
            int written;
            switch (part.Kind)
            {
                case PartKind.Address when shown is not null:
                    shown.TryFormat(span, out written);
                    break;
                case PartKind.Address:
                    written = Encoding.ASCII.GetBytes(addressText.AsSpan(0, Math.Min(addressText!.Length, ClientAddress.MaxAddressChars)), span);
                    break;
                case PartKind.Port:
                    port.TryFormat(span, out written, provider: System.Globalization.CultureInfo.InvariantCulture);
                    break;
                default:
                    part.Literal.CopyTo(span);
                    written = part.Literal.Length;
                    break;
            }

            length += written;
        }

        return length;
    }

    /// <summary>The greeting for a client at <paramref name="address"/>:<paramref name="port"/> as bytes, without terminator.</summary>
    public byte[] Format(IPAddress address, int port)
    {
        var bytes = new byte[MaxFormattedBytes];
        int length = Format(address, port, bytes);
        return bytes[..length];
    }

    /// <summary>The greeting for a client named <paramref name="addressText"/> (a unix-socket peer) as bytes, without terminator.</summary>
    public byte[] Format(string addressText, int port)
    {
        var bytes = new byte[MaxFormattedBytes];
        int length = Format(addressText, port, bytes);
        return bytes[..length];
    }

    private static void Flush(StringBuilder literal, List<Part> parts, Encoding encoding)
    {
        if (literal.Length > 0)
        {
            byte[] bytes;
            try
            {
                bytes = encoding.GetBytes(literal.ToString());
            }
            catch (EncoderFallbackException e)
            {
                string shown = e.CharUnknownHigh != default
                    ? MessageText.Escape(new string([e.CharUnknownHigh, e.CharUnknownLow]))
                    : MessageText.Escape(e.CharUnknown.ToString());
                throw new FormatException($"greeting template has '{shown}', which the encoding {encoding.WebName} cannot encode", e);
            }

            parts.Add(new Part(PartKind.Literal, bytes));
            literal.Clear();
        }
    }

    private enum PartKind
    {
        Literal,
        Address,
        Port,
    }

    private readonly record struct Part(PartKind Kind, byte[] Literal);
}
