using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TcpTalk.Client;

namespace TcpTalk.Cli.Commands;

/// <summary>The flags of <c>send --spool</c>: the spool directory, its limit, its status, and the retrying.</summary>
internal sealed class SpoolFlags
{
    private static readonly ReconnectingSenderOptions s_defaults = new();

    public Option<string?> Spool { get; } = new("--spool")
    {
        Description = "Store every message durably in the spool directory first, send it with --ack, and keep it until the server acknowledged it; " +
                      "reconnect and resend after failures (at least once: a message whose ack was lost is sent again). Restarted on the same directory, send resends what was left",
        HelpName = "dir",
    };

    public Option<bool> Status { get; } = new("--status")
    {
        Description = "With --spool: print the spool's backlog (messages, bytes, oldest, accepted in all) and exit, even while a sender runs",
    };

    public Option<long> MaxBytes { get; } = new("--spool-max-bytes")
    {
        Description = "With --spool: most message bytes held in the spool; when full, reading stdin pauses until the server acknowledges (nothing is dropped). Suffixes K, M, G (1024s)",
        DefaultValueFactory = _ => s_defaults.MaxSpoolBytes,
        CustomParser = ParseBytes,
        HelpName = "bytes",
    };

    public Option<TimeSpan> InitialDelay { get; } = SendCommand.Positive(CommonOptions.Duration("--retry-initial-delay",
        "With --spool: wait before the first retry after a failure; doubled per failure in a row, with jitter", s_defaults.InitialRetryDelay));

    public Option<TimeSpan> MaxDelay { get; } = SendCommand.Positive(CommonOptions.Duration("--retry-max-delay",
        "With --spool: longest wait between two attempts", s_defaults.MaxRetryDelay));

    public Option<TimeSpan> RetryFor { get; } = SendCommand.Positive(CommonOptions.Duration("--retry-for",
        "With --spool: give up (with the last failure's exit code) when one outage lasts longer than this; default: retry forever"));

    public void AddTo(Command command)
    {
        command.Add(Spool);
        command.Add(Status);
        command.Add(MaxBytes);
        command.Add(InitialDelay);
        command.Add(MaxDelay);
        command.Add(RetryFor);
    }

    /// <summary>The flags given that only mean something with --spool, when it is not given: a usage error.</summary>
    public string? WithoutSpool(ParseResult result)
    {
        Option[] spoolOnly = [Status, MaxBytes, InitialDelay, MaxDelay, RetryFor];
        var given = spoolOnly.FirstOrDefault(o => result.GetResult(o) is { Implicit: false });
        return given is null ? null : $"{given.Name} needs --spool DIR";
    }

    /// <summary>The sender's settings these flags give, around the connection's <paramref name="client"/>.</summary>
    public ReconnectingSenderOptions Load(ParseResult result, TalkClientOptions client)
    {
        var initial = result.GetValue(InitialDelay);
        var max = result.GetValue(MaxDelay);
        if (max < initial)
        {
            throw new UserErrorException(ExitCode.Usage, $"--retry-max-delay ({FlagText.Duration(max)}) must be at least --retry-initial-delay ({FlagText.Duration(initial)})");
        }

        return new ReconnectingSenderOptions
        {
            Client = client,
            InitialRetryDelay = initial,
            MaxRetryDelay = max,
            RetryFor = result.GetResult(RetryFor) is { Implicit: false } ? result.GetValue(RetryFor) : null,
            MaxSpoolBytes = result.GetValue(MaxBytes),
        };
    }

    private static long ParseBytes(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        int shift = text.Length > 0 ? char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 } : 0;
        string digits = shift > 0 ? text[..^1] : text;
        if (long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0 && value <= long.MaxValue >> shift)
        {
            return value << shift;
        }

        result.AddError($"--spool-max-bytes must be a positive number of bytes (suffix K, M or G for 1024s), not '{text}'");
        return 0;
    }
}
