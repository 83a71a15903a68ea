using System.CommandLine;
using System.CommandLine.Parsing;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// Keeps an option's validators from running on a value that did not convert (<c>--port abc</c>): there
/// <c>GetValueOrDefault</c> throws, and the process would die with a stack trace instead of the one usage line
/// System.CommandLine already has for it (<c>'abc' is not a whole number</c>, see <see cref="UsageErrors"/>).
/// Applied once to the whole command tree in Program, so no verb's validator has to remember it.
/// </summary>
internal static class ConversionGuard
{
    public static void ApplyTo(Command root)
    {
        var seen = new HashSet<Option>();
        foreach (var option in Commands(root).SelectMany(c => c.Options).Where(seen.Add))
        {
            for (int i = 0; i < option.Validators.Count; i++)
            {
                var validate = option.Validators[i];
                option.Validators[i] = result =>
                {
                    try
                    {
                        validate(result);
                    }
                    catch (InvalidOperationException) when (!Converts(result))
                    {
                        // The conversion error is reported by the parser itself.
                    }
                };
            }
        }
    }

    private static bool Converts(OptionResult result)
    {
        try
        {
            _ = result.GetValueOrDefault<object?>();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static IEnumerable<Command> Commands(Command command) =>
        command.Subcommands.SelectMany(Commands).Prepend(command);
}
