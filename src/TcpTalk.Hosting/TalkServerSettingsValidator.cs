using Microsoft.Extensions.Options;

namespace TcpTalk.Hosting;

/// <summary>
/// Validates <see cref="TalkServerSettings"/> when the host starts (registered by <c>AddTalkServer</c> with
/// <c>ValidateOnStart</c>): every <see cref="TalkServerSettings.FindProblems"/> entry becomes one failure naming its
/// key, so a bad value stops the start before anything is bound or opened.
/// </summary>
internal sealed class TalkServerSettingsValidator(ISettingNames names) : IValidateOptions<TalkServerSettings>
{
    public ValidateOptionsResult Validate(string? name, TalkServerSettings options)
    {
        var problems = options.FindProblems(names);
        return problems.Count == 0 ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(problems.Select(p => $"{names.Name(p.Key)} {p.Problem}"));
    }
}
