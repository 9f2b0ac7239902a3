namespace Tina.Text;

/// <summary>
/// The fixed set of texts on which <see cref="GloveTextEncoder"/> estimates the SIF common component (the first
/// principal component that is removed from every embedding, Arora et al. 2017). It stands in for the corpus of
/// sentences of the paper: the class names the encoder is mostly used for, plus everyday words so that the component
/// reflects the vector space rather than one dataset. Changing the list changes every embedding, and therefore the
/// encoder's <see cref="ITextEncoder.Id"/> (which hashes it).
/// </summary>
public static class SifReferenceSet
{
    /// <summary>The 100 CIFAR-100 fine class names, as spelled in the binary archive's <c>fine_label_names.txt</c>.</summary>
    public static IReadOnlyList<string> Cifar100ClassNames { get; } =
    [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple", "motorcycle", "mountain",
        "mouse", "mushroom", "oak", "orange", "orchid", "otter", "palm", "pear", "pickup_truck", "pine",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow", "wolf", "woman", "worm",
    ];

    /// <summary>100 frequent English nouns, adjectives and verbs (no function words, which SIF weights near zero anyway).</summary>
    public static IReadOnlyList<string> CommonWords { get; } =
    [
        "time", "people", "year", "day", "thing", "life", "child", "world", "school", "family",
        "student", "group", "country", "problem", "hand", "part", "place", "week", "company", "system",
        "question", "work", "number", "night", "point", "home", "water", "room", "mother", "area",
        "money", "story", "month", "book", "eye", "job", "word", "side", "head", "service",
        "friend", "father", "power", "hour", "game", "line", "member", "car", "city", "name",
        "team", "idea", "body", "door", "health", "person", "art", "war", "history", "morning",
        "air", "teacher", "food", "music", "picture", "animal", "plant", "street", "light", "color",
        "small", "large", "old", "new", "good", "long", "high", "young", "black", "white",
        "red", "green", "blue", "little", "big", "open", "run", "walk", "eat", "play",
        "build", "grow", "fly", "swim", "drive", "read", "write", "sleep", "sing", "see",
    ];

    /// <summary>The default reference set: <see cref="Cifar100ClassNames"/> followed by <see cref="CommonWords"/>.</summary>
    public static IReadOnlyList<string> Default { get; } = [.. Cifar100ClassNames, .. CommonWords];
}
