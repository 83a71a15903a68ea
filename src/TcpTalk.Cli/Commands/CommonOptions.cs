using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>Options every verb spells the same way.</summary>
internal sealed class CommonOptions
{
    public Option<FramingMode> Framing { get; } = new("--framing")
    {
        Description = "Message framing: nul (a NUL byte ends each message, as the classic C programs send), line (LF; a CR before it is dropped), "
            + "octet (RFC 6587 octet counting: length, space, message, as syslog over TCP), u16be or u32be (2- or 4-byte big-endian length first)",
        DefaultValueFactory = _ => FramingMode.Nul,
        CustomParser = ParseFraming,
        HelpName = "nul|line|octet|u16be|u32be",
    };

    /// <summary>The encodings help names and completion offers, spelled as <c>--encoding</c> takes them (any code page works).</summary>
    private static readonly string[] s_encodingNames = ["utf-8", "gbk", "big5", "shift_jis", "windows-1252"];

    public Option<Encoding> Encoding { get; } = new("--encoding")
    {
        Description = $"Text encoding of messages: {string.Join(", ", s_encodingNames)}, cpNNN... (bytes invalid in it are shown as \\xNN)",
        DefaultValueFactory = _ => MessageText.Utf8,
        CustomParser = ParseEncoding,
        HelpName = "name",
    };

    public Option<int> MaxMessageBytes { get; } = new("--max-message-bytes")
    {
        Description = "Longest message in bytes, terminator not counted",
        DefaultValueFactory = _ => MessageFramer.DefaultMaxMessageBytes,
        HelpName = "bytes",
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Show more on stderr (serve: connection open/close; send: each connection attempt)",
    };

    public CommonOptions()
    {
        Encoding.CompletionSources.Add(s_encodingNames);
        MaxMessageBytes.Validators.Add(r =>
        {
            int value = r.GetValueOrDefault<int>();
            if (value is < 1 or > MessageFramer.MaxAllowedMessageBytes)
            {
                r.AddError($"--max-message-bytes must be between 1 and {MessageFramer.MaxAllowedMessageBytes}, not {value}");
            }
        });
    }

    /// <summary>A duration option (<c>5s</c>, <c>250ms</c>, <c>2m</c>), spelled and parsed the same in every verb.</summary>
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan? defaultValue = null) => new(name)
    {
        Description = description,
        DefaultValueFactory = defaultValue is { } value ? _ => value : null,
        CustomParser = ParseDuration,
        HelpName = "duration",
    };

    public void AddTo(Command command)
    {
        command.Add(Framing);
        command.Add(Encoding);
        command.Add(MaxMessageBytes);
        command.Add(Verbose);
    }

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (DurationText.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a duration (examples: {DurationText.Examples})");
        return default;
    }

    private static FramingMode ParseFraming(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (FramingModeNames.TryParse(text, out var mode))
        {
            return mode;
        }

        result.AddError($"--framing must be {FramingModeNames.AllText}, not '{text}'");
        return default;
    }

    private static Encoding ParseEncoding(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (MessageText.TryGetEncoding(text, out var encoding, out string? error))
        {
            return encoding;
        }

        result.AddError(error!);
        return MessageText.Utf8;
    }
}
