using Tina.PModels;

namespace Tina.Tests.PModels;

public class PModelSpliceTests
{
    private static PModel Filled(float value, params string[] labels)
    {
        var layout = ParameterLayout.For(PModelArch.Cnn5k, labels.Length);
        return new PModel(PModelArch.Cnn5k, labels, Enumerable.Range(0, layout.Count).Select(i => value + i * 1e-3f).ToArray());
    }

    [Fact]
    public void TheClassifierComesFromOneAndEverythingElseFromTheOther()
    {
        var body = Filled(1f, "apple", "pear", "orange");
        var classifier = Filled(-5f, "apple", "pear", "orange");
        var spliced = PModelSplice.Combine(body, classifier);
        var layout = spliced.Layout;
        foreach (var e in layout.Entries)
        {
            var source = e.Name.StartsWith("fc.", StringComparison.Ordinal) ? classifier : body;
            Assert.Equal(layout.Slice(source.Parameters, e.Name).ToArray(), layout.Slice(spliced.Parameters, e.Name).ToArray());
        }
        Assert.Equal(body.Labels, spliced.Labels);
        // The inputs are left as they were.
        Assert.Equal(1f, body.Parameters[0]);
        Assert.Equal(-5f, classifier.Parameters[^1] - (classifier.Parameters.Length - 1) * 1e-3f, 3);
    }

    [Fact]
    public void DifferentClassListsAreRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => PModelSplice.Combine(Filled(0f, "apple", "pear"), Filled(0f, "pear", "apple")));
        Assert.Contains("the class lists differ", ex.Message);
    }
}
