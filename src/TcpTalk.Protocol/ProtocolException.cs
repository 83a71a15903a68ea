using System.Text;

namespace TcpTalk.Protocol;

/// <summary>The peer broke the wire protocol. The message says what was wrong, the limit, and shows the offending input.</summary>
public class ProtocolException : Exception
{
    /// <summary>At most this many bytes of offending input are quoted in a message.</summary>
    public const int MaxQuotedBytes = 80;

    /// <summary>Creates the exception with a complete sentence.</summary>
    public ProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception with a complete sentence and its cause.</summary>
    public ProtocolException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Quotes at most <see cref="MaxQuotedBytes"/> bytes of input, escaped, for an error message.</summary>
    public static string Quote(ReadOnlySpan<byte> input)
    {
        bool cut = input.Length > MaxQuotedBytes;
        var shown = cut ? input[..MaxQuotedBytes] : input;
        var text = new StringBuilder(shown.Length + 8);
        text.Append('"').Append(MessageText.DecodeEscaped(shown, Encoding.UTF8)).Append('"');
        if (cut)
        {
            text.Append("...");
        }

        return text.ToString();
    }
}

/// <summary>A message did not end within the configured maximum length.</summary>
public sealed class MessageTooLongException : ProtocolException
{
    /// <summary>Creates the exception for a message that exceeded <paramref name="limit"/> bytes.</summary>
    public MessageTooLongException(int limit, ReadOnlySpan<byte> start)
        : base($"message longer than {limit} bytes (the limit); it starts {Quote(start)}")
    {
        Limit = limit;
    }

    /// <summary>Creates the exception for a length header announcing <paramref name="announced"/> bytes, over <paramref name="limit"/>.</summary>
    public MessageTooLongException(int limit, long announced, ReadOnlySpan<byte> start)
        : base($"message of {announced} bytes announced, longer than {limit} bytes (the limit); it starts {Quote(start)}")
    {
        Limit = limit;
    }

    private MessageTooLongException(string message, int limit) : base(message)
    {
        Limit = limit;
    }

    /// <summary>An octet-counted length with more digits than any length within <paramref name="limit"/> has.</summary>
    internal static MessageTooLongException DigitRun(int limit, ReadOnlySpan<byte> start) =>
        new($"octet-counted length has more digits than a message of at most {limit} bytes (the limit) needs; it starts {Quote(start)}", limit);

    /// <summary>The limit in bytes that the message exceeded.</summary>
    public int Limit { get; }
}
