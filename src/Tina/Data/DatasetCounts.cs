namespace Tina.Data;

/// <summary>Size of a dataset: number of classes and of images in each split.</summary>
/// <param name="Classes">Number of classes.</param>
/// <param name="Train">Images in the training split.</param>
/// <param name="Test">Images in the test split.</param>
public readonly record struct DatasetCounts(int Classes, int Train, int Test)
{
    /// <summary>Counts of an already loaded dataset.</summary>
    public static DatasetCounts Of(ImageDataset dataset) =>
        new(dataset.NumClasses, dataset.Train.Count, dataset.Test.Count);

    /// <summary>Images in both splits.</summary>
    public int Total => Train + Test;
}
