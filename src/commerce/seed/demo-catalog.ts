// The demo shop's vocabulary: categories with the nouns, materials and variant options their products use.

export interface DemoCategory {
  slug: string
  name: string
  description: string
  nouns: string[]
  /** Option name → values; a product gets the cartesian product of up to two option lists. */
  options: Record<string, string[]>
  /** Base price range in minor units. */
  price: [number, number]
}

export const ADJECTIVES = [
  'Classic',
  'Everyday',
  'Heritage',
  'Urban',
  'Coastal',
  'Alpine',
  'Nordic',
  'Vintage',
  'Modern',
  'Essential',
  'Premium',
  'Lightweight',
  'Rugged',
  'Minimal',
  'Studio',
  'Summit',
  'Harbor',
  'Meadow',
  'Canyon',
  'Aurora',
]

export const MATERIALS = [
  'Cotton',
  'Linen',
  'Merino',
  'Leather',
  'Canvas',
  'Bamboo',
  'Oak',
  'Walnut',
  'Steel',
  'Ceramic',
  'Recycled',
  'Organic',
  'Wool',
  'Cork',
  'Glass',
  'Copper',
]

export const COLOURS = ['Black', 'White', 'Navy', 'Olive', 'Sand', 'Rust', 'Slate', 'Forest']

export const DEMO_CATEGORIES: DemoCategory[] = [
  {
    slug: 'apparel',
    name: 'Apparel',
    description: 'Shirts, jackets and knitwear made to last.',
    nouns: [
      'T-Shirt',
      'Oxford Shirt',
      'Hoodie',
      'Rain Jacket',
      'Sweater',
      'Chinos',
      'Cardigan',
      'Fleece',
      'Polo',
      'Parka',
    ],
    options: { size: ['XS', 'S', 'M', 'L', 'XL'], colour: COLOURS.slice(0, 4) },
    price: [1900, 18900],
  },
  {
    slug: 'footwear',
    name: 'Footwear',
    description: 'Sneakers, boots and sandals for every trail and street.',
    nouns: ['Sneaker', 'Trail Runner', 'Chelsea Boot', 'Hiking Boot', 'Sandal', 'Loafer', 'Slip-On', 'High-Top'],
    options: { size: ['38', '39', '40', '41', '42', '43', '44', '45'] },
    price: [3900, 22900],
  },
  {
    slug: 'home-kitchen',
    name: 'Home & Kitchen',
    description: 'Cookware, tableware and the small things that make a home.',
    nouns: [
      'Chef Knife',
      'Dutch Oven',
      'Mug Set',
      'Cutting Board',
      'Teapot',
      'Salad Bowl',
      'Frying Pan',
      'Carafe',
      'Spice Rack',
    ],
    options: { colour: COLOURS.slice(0, 5) },
    price: [900, 24900],
  },
  {
    slug: 'electronics',
    name: 'Electronics',
    description: 'Headphones, speakers, chargers and smart gadgets.',
    nouns: [
      'Headphones',
      'Bluetooth Speaker',
      'Power Bank',
      'USB-C Charger',
      'Smart Lamp',
      'Keyboard',
      'Webcam',
      'Earbuds',
    ],
    options: { colour: ['Black', 'White', 'Slate'], capacity: ['Standard', 'Pro'] },
    price: [1500, 39900],
  },
  {
    slug: 'outdoor',
    name: 'Outdoor',
    description: 'Tents, packs and gear for the weekend and the wilderness.',
    nouns: ['Daypack', 'Tent', 'Sleeping Bag', 'Headlamp', 'Water Bottle', 'Camp Stove', 'Trekking Poles', 'Hammock'],
    options: { size: ['S', 'M', 'L'], colour: ['Olive', 'Rust', 'Navy'] },
    price: [1200, 34900],
  },
  {
    slug: 'books',
    name: 'Books',
    description: 'Novels, cookbooks and field guides, in print and audio.',
    nouns: ['Field Guide', 'Cookbook', 'Novel', 'Atlas', 'Journal', 'Poetry Collection', 'Travel Guide', 'Sketchbook'],
    options: { format: ['Paperback', 'Hardcover', 'Audiobook'] },
    price: [799, 4999],
  },
  {
    slug: 'toys-games',
    name: 'Toys & Games',
    description: 'Board games, puzzles and building sets for all ages.',
    nouns: ['Board Game', 'Jigsaw Puzzle', 'Building Set', 'Card Game', 'Wooden Train', 'Kite', 'Puzzle Cube'],
    options: { edition: ['Standard', 'Deluxe'] },
    price: [999, 8999],
  },
  {
    slug: 'beauty',
    name: 'Beauty & Care',
    description: 'Soaps, balms and grooming essentials with clean ingredients.',
    nouns: ['Hand Cream', 'Bar Soap', 'Face Serum', 'Lip Balm', 'Beard Oil', 'Shampoo', 'Body Wash'],
    options: { size: ['50 ml', '100 ml', '250 ml'] },
    price: [499, 5999],
  },
  {
    slug: 'sports',
    name: 'Sports',
    description: 'Equipment for the gym, the court and the road.',
    nouns: ['Yoga Mat', 'Kettlebell', 'Jump Rope', 'Tennis Racket', 'Cycling Gloves', 'Foam Roller', 'Dumbbell Set'],
    options: { size: ['S', 'M', 'L'] },
    price: [1299, 19999],
  },
  {
    slug: 'garden',
    name: 'Garden',
    description: 'Tools, planters and seeds for balconies and backyards.',
    nouns: ['Planter', 'Pruning Shears', 'Watering Can', 'Seed Kit', 'Garden Gloves', 'Trowel', 'Bird Feeder'],
    options: { size: ['Small', 'Large'] },
    price: [699, 12999],
  },
]
