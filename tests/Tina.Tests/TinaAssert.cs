using Tina.MLNet.Errors;

namespace Tina.Tests;

/// <summary>Assertions on Tina's user errors, which share the marker <see cref="ITinaError"/> rather than a base class.</summary>
internal static class TinaAssert
{
    /// <summary>Asserts that <paramref name="action"/> throws a Tina user error (any <see cref="ITinaError"/>) and returns it.</summary>
    public static Exception ThrowsTinaError(Action action)
    {
        var e = Record.Exception(action);
        Assert.NotNull(e);
        Assert.True(e is ITinaError, $"Expected a Tina user error (ITinaError), got {e.GetType().FullName}: {e.Message}");
        return e;
    }

    /// <summary>As <see cref="ThrowsTinaError(Action)"/>, for a function whose result is ignored.</summary>
    public static Exception ThrowsTinaError(Func<object?> action) => ThrowsTinaError(() => { action(); });
}
