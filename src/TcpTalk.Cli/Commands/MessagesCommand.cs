using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Text;
using TcpTalk.Hosting;
using System.Data.Common;
using TcpTalk.Journal;
using TcpTalk.Journal.Postgres;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// <c>tcptalk messages</c>: print the messages stored in a journal, oldest first, in the line format <c>serve</c>
/// prints (or as JSON lines), optionally filtered, optionally following new ones as the server stores them.
/// </summary>
internal static class MessagesCommand
{
    /// <summary>Where <c>serve --journal</c> and <c>messages --journal</c> look when not told.</summary>
    public const string DefaultJournalPath = "./tcptalk.db";

    private static readonly string[] s_dateFormats = BuildDateFormats();

    public static Command Create(CommonOptions common, Func<CancellationToken> shutdown)
    {
        ArgumentNullException.ThrowIfNull(common); // the shared options (framing, encoding...) do not apply to stored messages
        var journal = new Option<string>("--journal")
        {
            Description = "Journal to read (written by 'tcptalk serve --journal'): a file, or postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME]",
            DefaultValueFactory = _ => DefaultJournalPath,
            HelpName = "path",
        };
        var since = new Option<DateTimeOffset?>("--since")
        {
            Description = "Only messages received at or after TIME: 2024-05-01T12:00:00Z, 2024-05-01 12:00 (UTC unless an offset is given), or an age: 90s, 10m, 2h, 7d",
            CustomParser = ParseTime,
            HelpName = "time",
        };
        var until = new Option<DateTimeOffset?>("--until")
        {
            Description = "Only messages received before TIME (same forms as --since)",
            CustomParser = ParseTime,
            HelpName = "time",
        };
        var from = new Option<IPNetwork?>("--from")
        {
            Description = "Only messages from this client address or network: 192.0.2.7, 2001:db8::1, 192.0.2.0/24",
            CustomParser = ParseFrom,
            HelpName = "addr[/bits]",
        };
        var contains = new Option<string?>("--contains")
        {
            Description = "Only messages whose text contains TEXT (case-sensitive)",
            HelpName = "text",
        };
        var limit = new Option<int?>("--limit", "-n")
        {
            Description = "Only the newest N matching messages (still printed oldest first)",
            HelpName = "n",
        };
        limit.Validators.Add(r =>
        {
            int? value = r.GetValueOrDefault<int?>();
            if (value is < 1)
            {
                r.AddError($"--limit must be at least 1, not {value}");
            }
        });
        var follow = new Option<bool>("--follow", "-f")
        {
            Description = "After the stored messages, keep printing new ones as the server stores them, until Ctrl+C",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object per message and line, with every stored column (raw bytes as base64)",
        };

        var export = new Option<string?>("--export")
        {
            Description = "Instead of printing, copy the whole journal (SQLite) to FILE, consistently even while serve writes it; FILE reads with 'messages --journal FILE' and the sqlite3 shell",
            HelpName = "file",
        };
        var force = new Option<bool>("--force")
        {
            Description = "With --export: replace FILE if it exists",
        };

        var command = new Command("messages", "Print the messages stored in a journal, oldest first, one line each as 'serve' prints them");
        command.Add(journal);
        command.Add(since);
        command.Add(until);
        command.Add(from);
        command.Add(contains);
        command.Add(limit);
        command.Add(follow);
        command.Add(json);
        command.Add(export);
        command.Add(force);
        command.SetAction(async (result, _) =>
        {
            if (result.GetValue(export) is { } file)
            {
                Option[] filters = [since, until, from, contains, limit, follow, json];
                if (filters.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } filter)
                {
                    throw new UserErrorException(ExitCode.Usage, $"--export copies the whole journal; {filter.Name} applies when reading the copy (messages --journal {file} {filter.Name} ...)");
                }

                return JournalExporting.Run(result.GetValue(journal)!, file, result.GetValue(force));
            }

            if (result.GetValue(force))
            {
                throw new UserErrorException(ExitCode.Usage, "--force goes with --export");
            }

            var query = new JournalQuery
            {
                Since = result.GetValue(since),
                Until = result.GetValue(until),
                From = result.GetValue(from),
                Contains = result.GetValue(contains),
                Limit = result.GetValue(limit),
                Newest = true,
            };
            try
            {
                query.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UserErrorException(ExitCode.Usage, "--until is before --since", e);
            }

            return await RunAsync(result.GetValue(journal)!, query, result.GetValue(follow), result.GetValue(json), shutdown()).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(string path, JournalQuery query, bool follow, bool json, CancellationToken shutdown)
    {
        await using var reader = await OpenReaderAsync(path, shutdown).ConfigureAwait(false);
        try
        {
            return await WriteRecordsAsync(reader, query, follow, json, shutdown).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JournalUnavailableException or PostgresJournalFormatException)
        {
            throw new UserErrorException(ExitCode.JournalFailed, e.Message, e);
        }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            throw new UserErrorException(ExitCode.JournalFailed, $"journal {Describe(path)} cannot be read: {e.Message}", e); // 11, as serve says it
        }
    }

    /// <summary>Writes what the reader returns, the same lines whichever store it reads.</summary>
    private static async Task<int> WriteRecordsAsync(IJournalReader reader, JournalQuery query, bool follow, bool json, CancellationToken shutdown)
    {
        var records = follow ? reader.FollowAsync(query, shutdown) : reader.QueryAsync(query, shutdown);
        using var output = new BufferedStream(Console.OpenStandardOutput(), 64 * 1024);
        var enumerator = records.GetAsyncEnumerator(shutdown);
        try
        {
            while (true)
            {
                var next = enumerator.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    // About to wait (for the next poll when following): show what we have first.
                    if (!TryWrite(output, static o => o.Flush()))
                    {
                        return (int)ExitCode.Success;
                    }
                }

                if (!await next.ConfigureAwait(false))
                {
                    break;
                }

                var record = enumerator.Current;
                if (!TryWrite(output, o => WriteRecord(o, record, json)))
                {
                    return (int)ExitCode.Success; // the reader of our output went away (| head): that is fine
                }
            }
        }
        catch (OperationCanceledException) when (follow && shutdown.IsCancellationRequested)
        {
            // Ctrl+C (or SIGTERM) is how --follow ends: what was read is printed, and the exit code says it was
            // interrupted, 130, as for send and bench (README, "Exit codes").
            TryWrite(output, static o => o.Flush());
            return (int)ExitCode.Interrupted;
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }

        TryWrite(output, static o => o.Flush());
        return (int)ExitCode.Success;
    }

    /// <summary>The reader for <paramref name="path"/>: PostgreSQL for a <c>postgres://</c> URI, else the embedded journal file.</summary>
    private static async Task<IJournalReader> OpenReaderAsync(string path, CancellationToken cancellationToken)
    {
        if (!PostgresJournalUri.IsPostgresUri(path))
        {
            return OpenReader(path);
        }

        try
        {
            return await PostgresJournalReader.OpenAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            throw new UserErrorException(ExitCode.Usage, $"--journal: {e.Message}", e);
        }
        catch (Exception e) when (e is JournalUnavailableException or PostgresJournalFormatException)
        {
            throw new UserErrorException(ExitCode.JournalFailed, e.Message, e); // 11, as serve says it
        }
    }

    /// <summary>The journal as messages name it: a URI without its password.</summary>
    private static string Describe(string path) =>
        PostgresJournalUri.IsPostgresUri(path) && TryParseUri(path) is { } uri ? uri.ToString() : path;

    private static PostgresJournalUri? TryParseUri(string text)
    {
        try
        {
            return PostgresJournalUri.Parse(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static JournalReader OpenReader(string path)
    {
        try
        {
            // A damaged row is skipped by the reader; say so on stderr, one line each, never silently.
            return JournalReader.Open(path, new JournalReaderOptions { Damaged = static line => Console.Error.WriteLine("tcptalk: warning: " + line) });
        }
        catch (FileNotFoundException e)
        {
            throw new UserErrorException(ExitCode.Usage, e.Message + " (give the file 'tcptalk serve --journal' writes with --journal PATH)", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UserErrorException(ExitCode.JournalFailed, $"journal {path} cannot be read: permission denied", e);
        }
        catch (Exception e) when (e is JournalFormatException or JournalUnavailableException)
        {
            throw new UserErrorException(ExitCode.JournalFailed, e.Message, e); // 11, as serve says it
        }

        // Not a journal, newer schema, in use...: ErrorReporter makes every journal exception exit 11.
    }

    private static bool TryWrite(Stream output, Action<Stream> write)
    {
        try
        {
            write(output);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void WriteRecord(Stream output, JournalRecord record, bool json)
    {
        if (json)
        {
            // The shared formatter: the same JSON object serve --output json prints for the message.
            output.Write(Encoding.UTF8.GetBytes(MessageLineWriter.FormatLine(record.ToMessageRecord(), MessageOutputFormat.Json)));
        }
        else
        {
            output.Write(Encoding.UTF8.GetBytes(record.FormatLine()));
        }

        output.WriteByte((byte)'\n');
    }

    /// <summary>An ISO 8601 time (UTC unless it has an offset), or an age back from now: <c>90s</c>, <c>10m</c>, <c>2h</c>, <c>7d</c>.</summary>
    private static DateTimeOffset? ParseTime(ArgumentResult result)
    {
        string option = result.Parent is OptionResult parent ? parent.Option.Name : "time";
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : string.Empty;
        if (TryParseAge(text, out var age))
        {
            return TimeProvider.System.GetUtcNow() - age;
        }

        if (DateTimeOffset.TryParseExact(text, s_dateFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        result.AddError($"{option} '{text}' is not a time (examples: 2024-05-01T12:00:00Z, 2024-05-01, 10m, 7d)");
        return null;
    }

    private static bool TryParseAge(string text, out TimeSpan age)
    {
        age = default;
        if (text.Length < 2)
        {
            return false;
        }

        double scale = char.ToLowerInvariant(text[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 0,
        };
        if (scale == 0 || !double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount)
            || amount * scale > TimeSpan.FromDays(36500).TotalSeconds)
        {
            return false;
        }

        age = TimeSpan.FromSeconds(amount * scale);
        return true;
    }

    private static string[] BuildDateFormats()
    {
        string[] times = ["", "'T'HH:mm", "'T'HH:mm:ss", "'T'HH:mm:ss.FFFFFFF", " HH:mm", " HH:mm:ss", " HH:mm:ss.FFFFFFF"];
        return [.. times.Select(t => "yyyy-MM-dd" + t), .. times.Skip(1).Select(t => "yyyy-MM-dd" + t + "K")];
    }

    /// <summary>An address (<c>192.0.2.7</c>, <c>[::1]</c>) or a network (<c>192.0.2.0/24</c>; host bits are ignored).</summary>
    private static IPNetwork? ParseFrom(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value.Trim() : string.Empty;
        if (NetworkText.TryParse(text, maskHostBits: true, out var network, out string? error))
        {
            return network;
        }

        result.AddError($"--from '{text}': {error}");
        return null;
    }
}
