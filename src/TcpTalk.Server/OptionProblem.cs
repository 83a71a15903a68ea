using System.Globalization;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// One option of <see cref="TalkServerOptions"/> or <see cref="ServerTlsOptions"/> that cannot be used, as facts: the
/// property, its value and what it must be. <see cref="TalkServerOptions.FindProblems"/> returns them, so that a
/// configuration layer can name the setting its own way (a configuration key, a flag) and say where the value came
/// from; <see cref="TalkServerOptions.Validate"/> throws the first one's <see cref="Message"/>.
/// </summary>
public sealed class OptionProblem
{
    private OptionProblem(string property, string requirement, object? value, bool aboutValue)
    {
        Property = property;
        Requirement = requirement;
        Value = value;
        IsOutOfRange = aboutValue;
    }

    /// <summary>The property, as C# names it: <c>Port</c>, <c>Tls.HandshakeTimeout</c> (a property of <see cref="TalkServerOptions.Tls"/>).</summary>
    public string Property { get; }

    /// <summary>
    /// What the property must be or needs, worded to follow its name: <c>must be between 0 and 65535</c>,
    /// <c>needs a Journal: acknowledgements carry the journal id of a stored message</c>.
    /// </summary>
    public string Requirement { get; }

    /// <summary>The value refused (a <see cref="TimeSpan"/>, an <see cref="int"/>...); null when the problem is not its range.</summary>
    public object? Value { get; }

    /// <summary>Whether <see cref="Value"/> is outside the allowed range stated by <see cref="Requirement"/>.</summary>
    public bool IsOutOfRange { get; }

    /// <summary>
    /// The sentence of the library's <see cref="ArgumentException"/>: <c>Port is 70000; it must be between 0 and 65535</c>,
    /// or the property followed by the requirement.
    /// </summary>
    public string Message => IsOutOfRange ? $"{Property} is {FormatValue(Value)}; it {Requirement}" : $"{Property} {Requirement}";

    /// <summary>A value outside its range: <paramref name="requirement"/> says the range (<c>must be between 1 and 127</c>).</summary>
    public static OptionProblem OutOfRange(string property, object? value, string requirement) => new(property, requirement, value, aboutValue: true);

    /// <summary>A requirement not met that is not a range (<c>is missing: ...</c>, <c>needs a Journal: ...</c>).</summary>
    public static OptionProblem Unmet(string property, string requirement) => new(property, requirement, value: null, aboutValue: false);

    /// <summary>A value as the problem's sentence shows it: durations as <see cref="DurationText"/> writes them.</summary>
    public static string FormatValue(object? value) => value switch
    {
        null => "null",
        TimeSpan time => DurationText.Format(time),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <inheritdoc/>
    public override string ToString() => Message;
}
